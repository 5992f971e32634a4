"""Refusals of Plug & Phone and hardware returns, each with a stable code naming its rule."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, InvalidInput, NotFound


class MacMalformed(InvalidInput):
    code = "mac-address-malformed"
    message = (
        "%(mac)s is not a MAC address: 12 hexadecimal digits, as printed under the phone "
        "(00:15:65:12:34:56)."
    )


class MacAlreadyAttached(Conflict):
    code = "mac-address-already-attached"
    message = "The phone %(mac)s is already attached elsewhere: it cannot be attached here."


class LineHasPhone(Conflict):
    code = "line-has-a-phone"
    message = "The line %(number)s already has the phone %(mac)s: detach it first."


class NoLentPhone(Conflict):
    code = "no-lent-phone-free"
    message = (
        "This billing group has no lent Plug & Phone free to attach: order one, or detach one "
        "from another line."
    )


class PhoneNotFound(NotFound):
    code = "phone-not-found"
    message = "No such Plug & Phone here."


class LineHasNoPhone(NotFound):
    code = "line-has-no-phone"
    message = "The line %(number)s has no Plug & Phone attached."


class PhoneNotReturnable(Conflict):
    code = "phone-not-returnable"
    message = "This phone is no longer lent (%(state)s): there is nothing to send back."


class ReturnNotOpen(Conflict):
    code = "hardware-return-not-open"
    message = "This phone has no return waiting (%(state)s)."


class RefusalReasonRequired(InvalidInput):
    code = "hardware-return-refusal-reason-required"
    message = "Say why the return is refused: the customer reads it."
