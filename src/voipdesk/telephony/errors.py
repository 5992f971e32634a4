"""Refusals of the telephony area, each with a stable code naming its rule.

`rules` raises `Refusal(rule, field, values)` (no framework there); `from_refusal` turns it into the
`DomainError` below whose `code` is that rule, so the API answers a problem naming it and the page
shows the same sentence.
"""

from __future__ import annotations

from voipdesk.core.errors import Conflict, DomainError, InvalidInput, NotFound
from voipdesk.telephony.rules import Refusal


class LineNotFound(NotFound):
    code = "line-not-found"
    message = "No such line in this billing group."


class MessageNotFound(NotFound):
    code = "voicemail-message-not-found"
    message = "No such voicemail message."


class NoSipCredentials(Conflict):
    code = "line-has-no-sip-credentials"
    message = "This service is not a SIP line: it has no SIP password."


class InvalidChoice(InvalidInput):
    code = "invalid-choice"
    message = "%(value)s is not one of the possible choices."


class VoicemailUsedByForward(Conflict):
    code = "voicemail-used-by-forward"
    message = "Calls are forwarded to this voicemail: change those forwards before turning it off."


class InvalidNumber(InvalidInput):
    code = "invalid-number"
    message = "%(number)s is not a valid phone number."


class InvalidNumberPrefix(InvalidInput):
    code = "invalid-number-prefix"
    message = (
        "%(entry)s is neither a number nor a prefix (a + followed by digits, or 0 and digits)."
    )


class NumberListTooLong(InvalidInput):
    code = "number-list-too-long"
    message = "A list holds at most %(maximum)s numbers or prefixes."


class InvalidAddress(InvalidInput):
    code = "invalid-address"
    message = "%(entry)s is neither an IP address nor a network (CIDR, such as 203.0.113.0/24)."


class AddressRangeTooWide(InvalidInput):
    code = "address-range-too-wide"
    message = "%(entry)s allows every address: give the addresses your phones use."


class TooManyAddresses(InvalidInput):
    code = "too-many-addresses"
    message = "A line allows registration from at most %(maximum)s addresses or networks."


class UnknownForwardCondition(InvalidInput):
    code = "unknown-forward-condition"
    message = "%(condition)s is not a forwarding condition."


class UnknownForwardTarget(InvalidInput):
    code = "unknown-forward-target"
    message = "%(target)s is not a forwarding destination."


class ForwardDelayOutOfRange(InvalidInput):
    code = "forward-delay-out-of-range"
    message = "The delay before forwarding is %(minimum)s to %(maximum)s seconds, not %(delay)s."


class ForwardNumberMissing(InvalidInput):
    code = "forward-number-missing"
    message = "Give the number to forward the calls to."


class ForwardToItself(InvalidInput):
    code = "forward-to-itself"
    message = "A line cannot forward its calls to itself (%(number)s)."


class ForwardLineNotInGroup(InvalidInput):
    code = "forward-line-not-in-group"
    message = "%(number)s is not a line of this billing group."


class ForwardLoop(Conflict):
    code = "forward-loop"
    message = (
        "This forward would send calls round in a loop through the group: %(chain)s. "
        "Change one of these forwards first."
    )


class VoicemailOff(Conflict):
    code = "voicemail-off"
    message = "The voicemail of this line is off: turn it on before forwarding calls to it."


class CallerIdNotAnAlias(InvalidInput):
    code = "caller-id-not-an-alias"
    message = "%(number)s is not an alias number of this billing group."


class VoicemailPinFormat(InvalidInput):
    code = "voicemail-pin-format"
    message = "The voicemail PIN is %(minimum)s to %(maximum)s digits."


class VoicemailPinTrivial(InvalidInput):
    code = "voicemail-pin-trivial"
    message = (
        "This PIN is too easy to guess (one digit repeated, a run such as 1234, a repeated pair, "
        "or the end of the line's number): choose another."
    )


class GreetingNameMissing(InvalidInput):
    code = "greeting-name-missing"
    message = "Give the name the greeting says."


class GreetingMissing(InvalidInput):
    code = "greeting-recording-missing"
    message = "Upload a recording (WAV or MP3) to use it as the greeting."


class GreetingTooLarge(InvalidInput):
    code = "greeting-too-large"
    status = 413
    message = "A greeting file is at most %(maximum_mb)s MB."


class GreetingFormatUnsupported(InvalidInput):
    code = "greeting-format-unsupported"
    status = 415
    message = "A greeting is a WAV or MP3 recording."


class GreetingUnreadable(InvalidInput):
    code = "greeting-unreadable"
    message = "This file could not be read as audio: upload a WAV or MP3 recording."


class GreetingTooLong(InvalidInput):
    code = "greeting-too-long"
    message = "A greeting lasts at most %(maximum)s seconds."


class UnknownStarCode(InvalidInput):
    code = "unknown-star-code"
    message = "%(dialled)s is not a service code (see the list of star codes)."


class OptionNotAvailable(InvalidInput):
    code = "option-not-available"
    message = "%(option)s is not an option this line can have."


class OptionAlreadyOnLine(Conflict):
    code = "option-already-on-line"
    message = "The line already has this option."


class OptionNotOnLine(NotFound):
    code = "option-not-on-line"
    message = "The line has no such option."


_BY_RULE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        InvalidNumber,
        InvalidNumberPrefix,
        NumberListTooLong,
        InvalidAddress,
        AddressRangeTooWide,
        TooManyAddresses,
        UnknownForwardCondition,
        UnknownForwardTarget,
        ForwardDelayOutOfRange,
        ForwardNumberMissing,
        ForwardToItself,
        ForwardLineNotInGroup,
        ForwardLoop,
        VoicemailOff,
        VoicemailPinFormat,
        VoicemailPinTrivial,
        GreetingTooLarge,
        GreetingFormatUnsupported,
    )
}

# What each field error says (English msgids, translated at answer time).
_FIELD_RULES = {
    "invalid-number": "Not a valid phone number.",
    "forward-to-itself": "The line itself.",
    "forward-loop": "Leads back to this line.",
    "forward-delay-out-of-range": "5 to 60 seconds.",
    "voicemail-pin-format": "4 to 8 digits.",
    "voicemail-pin-trivial": "Too easy to guess.",
}


def from_refusal(refusal: Refusal) -> DomainError:
    cls = _BY_RULE[refusal.rule]
    fields = {refusal.field: _FIELD_RULES.get(refusal.rule, "Refused.")} if refusal.field else None
    return cls(fields=fields, **dict(refusal.values))
