"""Telephony rules as plain Python (no I/O): what a line's settings may be, checked before anything
is stored, the star codes as a data table, and how a routing record is compiled.

Every refusal is a `Refusal` carrying the rule that was broken (its code, the values for the
message and the field); `voipdesk.telephony.errors` turns each into a problem naming the rule.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers

from voipdesk.core.i18n import N_

# --- Forwarding ----------------------------------------------------------------------------------
# Outbox topic: a line's voicemail changed (a message left, saved or deleted); the switch area
# tells the line's phone (message-waiting indication).
MESSAGE_WAITING_TOPIC = "telephony.message_waiting"

UNCONDITIONAL = "unconditional"
BUSY = "busy"
NO_ANSWER = "no_answer"
UNREACHABLE = "unreachable"
CONDITIONS = (UNCONDITIONAL, BUSY, NO_ANSWER, UNREACHABLE)
CONDITION_LABELS = {
    UNCONDITIONAL: N_("Always"),
    BUSY: N_("When busy"),
    NO_ANSWER: N_("When there is no answer"),
    UNREACHABLE: N_("When unreachable"),
}

TARGET_EXTERNAL = "external"  # any valid number outside the group
TARGET_LINE = "line"  # another line of the same billing group
TARGET_VOICEMAIL = "voicemail"
TARGETS = (TARGET_EXTERNAL, TARGET_LINE, TARGET_VOICEMAIL)
TARGET_LABELS = {
    TARGET_EXTERNAL: N_("An external number"),
    TARGET_LINE: N_("Another line of the group"),
    TARGET_VOICEMAIL: N_("The voicemail"),
}

NO_ANSWER_DELAY_MIN = 5
NO_ANSWER_DELAY_MAX = 60
NO_ANSWER_DELAY_DEFAULT = 20

# --- Caller ID, restrictions ---------------------------------------------------------------------
CALLER_ID_LINE = "line"
CALLER_ID_ALIAS = "alias"
CALLER_ID_HIDDEN = "hidden"
CALLER_IDS = (CALLER_ID_LINE, CALLER_ID_ALIAS, CALLER_ID_HIDDEN)
CALLER_ID_LABELS = {
    CALLER_ID_LINE: N_("The line's number"),
    CALLER_ID_ALIAS: N_("An alias number of the group"),
    CALLER_ID_HIDDEN: N_("Hidden"),
}

LIST_NONE = "none"
LIST_ALLOW = "allow"  # only these numbers or prefixes may be called
LIST_BLOCK = "block"  # these numbers or prefixes may not be called
LIST_MODES = (LIST_NONE, LIST_ALLOW, LIST_BLOCK)
LIST_MODE_LABELS = {
    LIST_NONE: N_("No list"),
    LIST_ALLOW: N_("Only the numbers of the list (allow-list)"),
    LIST_BLOCK: N_("All but the numbers of the list (block-list)"),
}
NUMBER_LIST_MAX = 100
ALLOWED_IPS_MAX = 20
# Premium-rate prefixes by country (E.164), what "block premium-rate" refuses.
PREMIUM_PREFIXES = ("+3389", "+3308", "+3290", "+3270", "+41900", "+41901", "+41906", "+1900")

# --- Voicemail -----------------------------------------------------------------------------------
GREETING_STANDARD = "standard"  # "you have reached <number>, please leave a message"
GREETING_NAME = "name"  # the same with the name given (spoken by text-to-speech)
GREETING_RECORDING = "recording"  # an uploaded recording
GREETINGS = (GREETING_STANDARD, GREETING_NAME, GREETING_RECORDING)
GREETING_LABELS = {
    GREETING_STANDARD: N_("Standard greeting"),
    GREETING_NAME: N_("Greeting with a name"),
    GREETING_RECORDING: N_("My recording"),
}
EMAIL_OFF = "off"
EMAIL_WITHOUT_AUDIO = "without_audio"
EMAIL_WITH_AUDIO = "with_audio"
EMAIL_NOTIFICATIONS = (EMAIL_OFF, EMAIL_WITHOUT_AUDIO, EMAIL_WITH_AUDIO)
EMAIL_NOTIFICATION_LABELS = {
    EMAIL_OFF: N_("No e-mail"),
    EMAIL_WITHOUT_AUDIO: N_("An e-mail without the recording"),
    EMAIL_WITH_AUDIO: N_("An e-mail with the recording attached"),
}
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
GREETING_MAX_BYTES = 5 * 1024 * 1024
GREETING_MAX_SECONDS = 120
GREETING_CONTENT_TYPES = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}
# The telephony format every greeting is converted to: WAV, 8 kHz, mono, 16-bit PCM.
TELEPHONY_RATE = 8000
TELEPHONY_CHANNELS = 1


# --- Refusals ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Refusal(Exception):
    """A broken rule: `rule` is the stable code, `values` fill its message, `field` names the
    input at fault."""

    rule: str
    field: str = ""
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.rule} {self.field} {dict(self.values)}"


# --- Numbers -------------------------------------------------------------------------------------
def normalise_number(text: str, country: str, field_name: str = "number") -> str:
    """A dialable number as E.164, read in the account's country when national; refused when
    it is not a valid number."""
    cleaned = re.sub(r"[\s.\-()]", "", text or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        parsed = phonenumbers.parse(cleaned, None if cleaned.startswith("+") else country)
    except phonenumbers.NumberParseException as error:
        raise Refusal("invalid-number", field_name, {"number": text}) from error
    if not phonenumbers.is_valid_number(parsed):
        raise Refusal("invalid-number", field_name, {"number": text})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_PREFIX = re.compile(r"^\+[0-9]{1,15}$")


def normalise_number_list(
    entries: Sequence[str], country: str, field: str = "number_list"
) -> list[str]:
    """Numbers or prefixes of an allow- or block-list (or of the callers a line refuses), as
    E.164 (a national prefix such as "089" is read in the account's country, "+3389" as it is)."""
    if len(entries) > NUMBER_LIST_MAX:
        raise Refusal("number-list-too-long", field, {"maximum": NUMBER_LIST_MAX})
    result: list[str] = []
    for entry in entries:
        text = re.sub(r"[\s.\-()]", "", entry or "")
        if not text:
            continue
        if text.startswith("00"):
            text = "+" + text[2:]
        if not text.startswith("+") and text.isdigit():
            code = phonenumbers.country_code_for_region(country) or 33
            text = f"+{code}{text[1:] if text.startswith('0') else text}"
        if not _PREFIX.match(text):
            raise Refusal("invalid-number-prefix", field, {"entry": entry})
        if text not in result:
            result.append(text)
    return result


def normalise_allowed_ips(entries: Sequence[str]) -> list[str]:
    """Addresses or networks (CIDR) a line may register from; empty means anywhere."""
    if len(entries) > ALLOWED_IPS_MAX:
        raise Refusal("too-many-addresses", "allowed_ips", {"maximum": ALLOWED_IPS_MAX})
    result: list[str] = []
    for entry in entries:
        text = (entry or "").strip()
        if not text:
            continue
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as error:
            raise Refusal("invalid-address", "allowed_ips", {"entry": entry}) from error
        if network.prefixlen == 0:
            raise Refusal("address-range-too-wide", "allowed_ips", {"entry": entry})
        shown = (
            str(network.network_address)
            if network.prefixlen == network.max_prefixlen
            else str(network)
        )
        if shown not in result:
            result.append(shown)
    return result


def ip_allowed(address: str, allowed: Sequence[str]) -> bool:
    """Whether a phone registering from `address` may (an empty list allows any)."""
    if not allowed:
        return True
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in allowed)


# --- Forwarding ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Forward:
    condition: str
    target: str
    number: str | None = None  # E.164 for external and line targets
    delay: int | None = None  # seconds, no-answer only

    def as_json(self) -> dict[str, Any]:
        return {"target": self.target, "number": self.number, "delay": self.delay}


def forward_graph(forwards: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, set[str]]:
    """line number -> the line numbers its forwards lead to (any condition)."""
    graph: dict[str, set[str]] = {}
    for line, by_condition in forwards.items():
        graph[line] = {
            str(forward["number"])
            for forward in by_condition.values()
            if forward.get("target") == TARGET_LINE and forward.get("number")
        }
    return graph


def find_forward_loop(
    graph: Mapping[str, set[str] | frozenset[str]], start: str, target: str
) -> list[str] | None:
    """The chain start → target → … → start if forwarding `start` to `target` closes a loop
    through the group's other forwards (following every line's forwards), else None."""
    if target == start:
        return [start, start]
    # Depth-first search from target back to start, remembering the path.
    stack: list[tuple[str, list[str]]] = [(target, [start, target])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                stack.append((nxt, [*path, nxt]))
    return None


def check_forward(
    *,
    line_number: str,
    condition: str,
    target: str,
    number: str | None,
    delay: int | None,
    group_lines: Sequence[str],
    forwards: Mapping[str, Mapping[str, Mapping[str, Any]]],
    country: str,
    voicemail_enabled: bool = True,
) -> Forward:
    """The forward as it will be stored, or the rule it breaks. `forwards` holds the group's
    current forwards (line number -> condition -> forward)."""
    if condition not in CONDITIONS:
        raise Refusal("unknown-forward-condition", "condition", {"condition": condition})
    if target not in TARGETS:
        raise Refusal("unknown-forward-target", "target", {"target": target})
    if condition == NO_ANSWER:
        delay = NO_ANSWER_DELAY_DEFAULT if delay is None else delay
        if not NO_ANSWER_DELAY_MIN <= delay <= NO_ANSWER_DELAY_MAX:
            raise Refusal(
                "forward-delay-out-of-range",
                "delay",
                {"minimum": NO_ANSWER_DELAY_MIN, "maximum": NO_ANSWER_DELAY_MAX, "delay": delay},
            )
    else:
        delay = None
    if target == TARGET_VOICEMAIL:
        if not voicemail_enabled:
            raise Refusal("voicemail-off", "target")
        return Forward(condition, target, None, delay)
    if not number:
        raise Refusal("forward-number-missing", "number")
    e164 = normalise_number(number, country)
    if e164 == line_number:
        raise Refusal("forward-to-itself", "number", {"number": e164})
    if e164 in group_lines:
        target = TARGET_LINE  # a number of the group is a line of the group: loops are followed
    elif target == TARGET_LINE:
        raise Refusal("forward-line-not-in-group", "number", {"number": e164})
    if target == TARGET_LINE:
        others = {k: v for k, v in forwards.items() if k != line_number}
        graph = forward_graph(others)
        loop = find_forward_loop(graph, line_number, e164)
        if loop is not None:
            raise Refusal("forward-loop", "number", {"chain": " → ".join(loop)})
    return Forward(condition, target, e164, delay)


# --- Voicemail PIN -------------------------------------------------------------------------------
def check_pin(pin: str, line_number: str = "") -> str:
    """4 to 8 digits, not trivial: not one digit repeated, not a run up or down (1234, 9876),
    not the end of the line's number."""
    if not pin.isdigit() or not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise Refusal(
            "voicemail-pin-format", "pin", {"minimum": PIN_MIN_DIGITS, "maximum": PIN_MAX_DIGITS}
        )
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in itertools.pairwise(digits)}
    if len(set(digits)) == 1 or steps in ({1}, {-1}):
        raise Refusal("voicemail-pin-trivial", "pin")
    if len(pin) % 2 == 0 and pin[: len(pin) // 2] * 2 == pin:  # 1212, 123123
        raise Refusal("voicemail-pin-trivial", "pin")
    if line_number and line_number.lstrip("+").endswith(pin):
        raise Refusal("voicemail-pin-trivial", "pin")
    return pin


def greeting_format(content_type: str, filename: str, size: int) -> str:
    """ "wav" or "mp3" for an upload we can convert; refused when too big or of another kind."""
    if size > GREETING_MAX_BYTES:
        raise Refusal(
            "greeting-too-large", "greeting_file", {"maximum_mb": GREETING_MAX_BYTES // 1048576}
        )
    kind = GREETING_CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if kind is None:
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        kind = extension if extension in ("wav", "mp3") else None
    if kind is None:
        raise Refusal("greeting-format-unsupported", "greeting_file")
    return kind


# --- Star codes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StarCode:
    """One code a phone dials. `pattern` shows it with N for the number; `action` is what it does
    (the same use case as the page); `condition` the forward it sets, if any."""

    pattern: str
    action: str
    condition: str | None
    label: str


ACTION_FORWARD_ON = "forward_on"
ACTION_FORWARD_OFF = "forward_off"
ACTION_DND_ON = "dnd_on"
ACTION_DND_OFF = "dnd_off"
ACTION_HIDE_ONCE = "hide_caller_id_once"  # for the call being made: the switch does it

# The table the switch reads (and the help page shows), in this order.
STAR_CODES: tuple[StarCode, ...] = (
    StarCode("*21*N#", ACTION_FORWARD_ON, UNCONDITIONAL, N_("Forward every call to N")),
    StarCode("#21#", ACTION_FORWARD_OFF, UNCONDITIONAL, N_("Stop forwarding every call")),
    StarCode("*67*N#", ACTION_FORWARD_ON, BUSY, N_("Forward calls to N when busy")),
    StarCode("#67#", ACTION_FORWARD_OFF, BUSY, N_("Stop forwarding when busy")),
    StarCode(
        "*61*N#",
        ACTION_FORWARD_ON,
        NO_ANSWER,
        N_("Forward calls to N when there is no answer (after 20 s; *61*N*30# for 30 s)"),
    ),
    StarCode("#61#", ACTION_FORWARD_OFF, NO_ANSWER, N_("Stop forwarding when there is no answer")),
    StarCode("*62*N#", ACTION_FORWARD_ON, UNREACHABLE, N_("Forward calls to N when unreachable")),
    StarCode("#62#", ACTION_FORWARD_OFF, UNREACHABLE, N_("Stop forwarding when unreachable")),
    StarCode("*26#", ACTION_DND_ON, None, N_("Do not disturb: on")),
    StarCode("#26#", ACTION_DND_OFF, None, N_("Do not disturb: off")),
    StarCode("*31#N", ACTION_HIDE_ONCE, None, N_("Call N with the caller ID hidden (this call)")),
)
VOICEMAIL_NUMBER = "123"  # dialled from the line: its voicemail


def voicemail_retention_cutoff(now: datetime, retention_days: int) -> datetime | None:
    """Messages received before this moment are past their retention (None: kept for ever)."""
    if retention_days <= 0:
        return None
    return now - timedelta(days=retention_days)


_ON = re.compile(r"^\*(21|67|61|62)\*([+0-9]{2,20})(?:\*([0-9]{1,2}))?#$")
_OFF = re.compile(r"^#(21|67|61|62)#$")
_HIDE = re.compile(r"^\*31#([+0-9]{2,20})$")
_SERVICE_CODE = {"21": UNCONDITIONAL, "67": BUSY, "61": NO_ANSWER, "62": UNREACHABLE}


@dataclass(frozen=True)
class DialledCode:
    action: str
    condition: str | None = None
    number: str | None = None
    delay: int | None = None


def parse_star_code(dialled: str) -> DialledCode | None:
    """What the digits a phone dialled ask for, or None when they are not a star code."""
    text = (dialled or "").strip()
    if match := _ON.match(text):
        delay = int(match.group(3)) if match.group(3) else None
        if delay is not None and _SERVICE_CODE[match.group(1)] != NO_ANSWER:
            return None
        return DialledCode(ACTION_FORWARD_ON, _SERVICE_CODE[match.group(1)], match.group(2), delay)
    if match := _OFF.match(text):
        return DialledCode(ACTION_FORWARD_OFF, _SERVICE_CODE[match.group(1)])
    if text == "*26#":
        return DialledCode(ACTION_DND_ON)
    if text == "#26#":
        return DialledCode(ACTION_DND_OFF)
    if match := _HIDE.match(text):
        return DialledCode(ACTION_HIDE_ONCE, number=match.group(1))
    return None


# --- Routing record ------------------------------------------------------------------------------
ROUTING_LIVE_STATES = ("active", "to_renew")  # calls pass; suspended/terminated/deleted: refused


@dataclass
class LineFacts:
    """What the routing record of a line is compiled from (plain values from every area)."""

    number: str
    kind: str
    state: str
    billing_group_id: str
    sip_username: str | None
    sip_ha1: str | None
    offer: str
    simultaneous_calls: int
    outgoing_calls: bool
    options: list[str] = field(default_factory=list)
    settings: Mapping[str, Any] = field(default_factory=dict)
    voicemail: Mapping[str, Any] = field(default_factory=dict)
    alias_configuration: Mapping[str, Any] | None = None
    # The billing group's spending cap for calls beyond the plan is reached (consumption area).
    spending_cap_reached: bool = False


def compile_record(facts: LineFacts, realm: str) -> dict[str, Any]:
    """The one record the switch reads per call. Same facts, same record (the version only moves
    when something changed)."""
    settings = facts.settings
    is_line = facts.kind in ("sip_line", "sip_trunk")
    calls_pass = facts.state in ROUTING_LIVE_STATES
    record: dict[str, Any] = {
        "number": facts.number,
        "kind": facts.kind,
        "state": facts.state,
        "accepts_calls": calls_pass,
        "billing_group_id": facts.billing_group_id,
        "offer": facts.offer,
        "options": sorted(facts.options),
    }
    if is_line:
        caller_id = settings.get("caller_id", CALLER_ID_LINE)
        record.update(
            {
                "sip": {
                    "username": facts.sip_username,
                    "realm": realm,
                    "ha1": facts.sip_ha1,
                    "allowed_ips": list(settings.get("allowed_ips", [])),
                },
                "limits": {
                    "simultaneous_calls": facts.simultaneous_calls,
                    "outgoing_calls": facts.outgoing_calls
                    and calls_pass
                    and not settings.get("block_outgoing", False),
                    "international": not settings.get("block_international", False),
                    "premium_rate": not settings.get("block_premium", False),
                    "premium_prefixes": list(PREMIUM_PREFIXES),
                    "number_list_mode": settings.get("number_list_mode", LIST_NONE),
                    "number_list": list(settings.get("number_list", [])),
                    # Outgoing calls beyond the plan are refused while it is on (the calls the
                    # plan includes, toll-free and emergency numbers still pass).
                    "spending_cap_reached": bool(facts.spending_cap_reached),
                },
                "forwards": {
                    condition: dict(value)
                    for condition, value in sorted(settings.get("forwards", {}).items())
                },
                "do_not_disturb": bool(settings.get("do_not_disturb", False)),
                "reject_anonymous": bool(settings.get("reject_anonymous", False)),
                # Callers (numbers or prefixes) the line refuses: blocked from its call log.
                "blocked_callers": list(settings.get("blocked_callers", [])),
                "caller_id": {
                    "mode": caller_id,
                    "number": None
                    if caller_id == CALLER_ID_HIDDEN
                    else (
                        settings.get("caller_id_number")
                        if caller_id == CALLER_ID_ALIAS
                        else facts.number
                    ),
                },
                "voicemail": {
                    "enabled": bool(facts.voicemail.get("enabled", True)),
                    "greeting": facts.voicemail.get("greeting", GREETING_STANDARD),
                    "pin_set": bool(facts.voicemail.get("pin_set", False)),
                },
            }
        )
    else:
        record["alias_configuration"] = (
            dict(facts.alias_configuration) if facts.alias_configuration is not None else None
        )
    return record
