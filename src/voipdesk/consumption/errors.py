"""Refusals of the consumption area, each with a stable code naming its rule."""

from __future__ import annotations

from typing import Any

from voipdesk.consumption import rules
from voipdesk.consumption.rules import Refusal
from voipdesk.core.errors import DomainError, InvalidInput, NotFound


class InvalidMonth(InvalidInput):
    code = "invalid-month"
    message = "The month must be written YYYY-MM (for example 2026-03)."


class StatementNotFound(NotFound):
    code = "statement-not-found"
    message = (
        "There is no statement for this month: statements are made by the renewal run "
        "for the month before."
    )


class SpendingCapOutOfRange(InvalidInput):
    code = "spending-cap-out-of-range"
    message = "The spending cap must be between %(minimum)s and %(maximum)s EUR."


class SpendingCapBelowSpent(InvalidInput):
    code = "spending-cap-below-spent"
    message = (
        "The spending cap must be above what calls beyond the plan already cost this month "
        "(%(spent)s EUR)."
    )


class SpendingCapPrecision(InvalidInput):
    code = "spending-cap-precision"
    message = "The spending cap is an amount in euros with at most two decimals."


class InvalidRate(InvalidInput):
    code = "invalid-rate"
    message = "This rate is not valid: %(reason)s"


class UnknownDestination(InvalidInput):
    code = "unknown-destination"
    message = "%(value)s is not a destination of the rate tables."


class InvalidImport(InvalidInput):
    code = "invalid-call-import"
    message = "Line %(line)s of the file is not a valid call record: %(reason)s"


_REFUSALS: dict[str, type[DomainError]] = {
    "spending-cap-out-of-range": SpendingCapOutOfRange,
    "spending-cap-below-spent": SpendingCapBelowSpent,
    "spending-cap-precision": SpendingCapPrecision,
}


def from_refusal(refusal: Refusal) -> DomainError:
    cls = _REFUSALS[refusal.code]
    values: dict[str, Any] = dict(refusal.values)
    return cls(fields={refusal.field: "Refused."}, **values)


__all__ = ["rules"]
