"""What stops an account from being closed, as each area sees it.

Accounts does not know about services, invoices or orders: each area registers a function that
lists what blocks the closure on its side (active services, unpaid invoices, orders in progress),
in its `models` or `handlers` module:

    @closure_blocker("orders")
    def orders_in_progress(session, account) -> list[Blocker]: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account


@dataclass(frozen=True)
class Blocker:
    """One reason: a stable code, an English msgid and its values (translated when shown)."""

    code: str
    message: str
    values: dict[str, object] = field(default_factory=dict)
    link: str | None = None  # the customer-space page where this reason can be resolved


BlockerCheck = Callable[[Session, "Account"], list[Blocker]]
_CHECKS: dict[str, BlockerCheck] = {}


def closure_blocker(name: str) -> Callable[[BlockerCheck], BlockerCheck]:
    def register(check: BlockerCheck) -> BlockerCheck:
        _CHECKS[name] = check
        return check

    return register


def blockers(session: Session, account: Account) -> list[Blocker]:
    """Every reason, from every area, in the order areas registered."""
    found: list[Blocker] = []
    for check in list(_CHECKS.values()):
        found.extend(check(session, account))
    return found
