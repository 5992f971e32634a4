"""What other areas read from accounts: plain functions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from voipdesk.accounts.actions.verification import email_verified as _email_verified
from voipdesk.accounts.models import Account


def email_verified(session: Session, account: Account) -> bool:
    """Whether the account's current e-mail address was confirmed (ordering waits for it)."""
    return _email_verified(session, account)
