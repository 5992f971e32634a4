"""The switch's decisions for one call, as pure functions of the compiled routing records.

Kamailio's embedded interpreter (Debian's python3, not the project's environment) imports this
module: standard library only, nothing from the rest of voipdesk.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DIRECTION_INTERNAL = "internal"  # line to line (or alias) of the operator
DIRECTION_OUTGOING = "outgoing"  # a line to the outside, through the trunk
DIRECTION_INCOMING = "incoming"  # the outside to a line or alias number

ROUTE_DIRECT = "direct"
ROUTE_FORWARDED = "forwarded"
ROUTE_QUEUE = "queue_member"
ROUTE_ALIAS = "alias"
ROUTE_MEDIA = "media"
ROUTE_REFUSED = "refused"
ROUTE_STAR_CODE = "star_code"

DISPOSITION_ANSWERED = "answered"
DISPOSITION_BUSY = "busy"
DISPOSITION_NO_ANSWER = "no_answer"
DISPOSITION_REFUSED = "refused"
DISPOSITION_FAILED = "failed"
DISPOSITION_SERVICE = "service"  # answered by the switch itself (a star code applied)

# The forwarding conditions, as the telephony area stores them.
UNCONDITIONAL = "unconditional"
BUSY = "busy"
NO_ANSWER = "no_answer"
UNREACHABLE = "unreachable"
TARGET_EXTERNAL = "external"
TARGET_LINE = "line"
TARGET_VOICEMAIL = "voicemail"
DEFAULT_NO_ANSWER_DELAY = 20  # seconds

VOICEMAIL_SHORT_CODE = "123"
EMERGENCY_NUMBERS = frozenset(
    {"15", "17", "18", "112", "114", "115", "116000", "119", "191", "196"}
)
ANONYMOUS_USERS = frozenset({"anonymous", "unknown", "restricted", ""})
MAX_FORWARD_HOPS = 5  # a forward to a line that forwards: followed this many times at most


@dataclass(frozen=True)
class Refusal:
    """A final answer with its Reason header: `code` SIP status, `text` what happened."""

    code: int
    phrase: str
    text: str


@dataclass(frozen=True)
class Destination:
    """Where one branch of a call goes: a line of the operator (by its SIP user), the outside
    (an E.164 number through the trunk), or the media service (voicemail, IVR, conference)."""

    kind: str  # "line" | "external" | "media"
    number: str  # E.164 (line, external) or the media target ("voicemail:+33...")
    sip_user: str | None = None
    record: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Plan:
    """What to do with the call: ring `destinations` (all at once when `parallel`, else one after
    another, each for `ring_timeout` seconds), or refuse it."""

    route: str
    destinations: tuple[Destination, ...] = ()
    parallel: bool = False
    ring_timeout: int | None = None
    refusal: Refusal | None = None
    # The number presented to the callee (an alias redirect presents the alias when asked).
    presented_number: str | None = None
    line_number: str | None = None  # whose features apply on busy / no answer (forwards)
    notes: tuple[str, ...] = field(default=())


def refused(code: int, phrase: str, text: str) -> Plan:
    return Plan(route=ROUTE_REFUSED, refusal=Refusal(code, phrase, text))


# --- Numbers -------------------------------------------------------------------------------------
_DIGITS = re.compile(r"^\+?[0-9]{1,20}$")


def country_prefix(e164: str) -> str:
    """The country calling code of an E.164 number (1 to 3 digits, from the ITU's zones)."""
    digits = e164.lstrip("+")
    if digits[:1] in ("1", "7"):
        return digits[:1]
    two = digits[:2]
    if two in _TWO_DIGIT_CODES:
        return two
    return digits[:3]


_TWO_DIGIT_CODES = frozenset(
    [
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    ]
)


def normalise_dialled(dialled: str, caller_number: str | None) -> str | None:
    """The E.164 form of what a line dialled ("0612345678" from a French line is "+33612345678",
    "0033..." and "+33..." are kept); None when it is not a number (a star code, a short code)."""
    value = dialled.strip().replace(" ", "").replace("-", "").replace(".", "")
    if not _DIGITS.match(value):
        return None
    if value.startswith("+"):
        return value if len(value) >= 8 else None
    if value.startswith("00"):
        return "+" + value[2:] if len(value) >= 9 else None
    if value.startswith("0") and caller_number and caller_number.startswith("+"):
        return "+" + country_prefix(caller_number) + value[1:] if len(value) >= 9 else None
    if len(value) >= 10 and not value.startswith("0"):
        return "+" + value  # already international without the plus (a trunk's called number)
    return None


def is_anonymous(caller: str | None, privacy_header: str | None = None) -> bool:
    if privacy_header and any(p.strip() in ("id", "user") for p in privacy_header.split(";")):
        return True
    return (caller or "").strip().lower() in ANONYMOUS_USERS


def address_allowed(ip: str, allowed: Sequence[str]) -> bool:
    """Registration from this address is allowed (no list: every address)."""
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


# --- Refusals ------------------------------------------------------------------------------------
def registration_refusal(record: Mapping[str, Any] | None, source_ip: str) -> Refusal | None:
    """Why this line may not register now (None: it may, once its digest is checked)."""
    if record is None or not record.get("sip"):
        return Refusal(403, "Forbidden", "unknown line")
    if not record.get("accepts_calls"):
        return Refusal(403, "Forbidden", f"line {record.get('state')}")
    if not address_allowed(source_ip, record["sip"].get("allowed_ips") or []):
        return Refusal(403, "Forbidden", "address not allowed for this line")
    return None


def outgoing_refusal(caller: Mapping[str, Any], number: str) -> Refusal | None:
    """Why the caller's line may not call this external E.164 number (None: it may)."""
    limits = caller.get("limits") or {}
    if not caller.get("accepts_calls") or not limits.get("outgoing_calls"):
        return Refusal(403, "Forbidden", "outgoing calls barred on this line")
    if limits.get("spending_cap_reached") and not (is_emergency(number) or is_toll_free(number)):
        return Refusal(403, "Forbidden", "spending cap reached")
    own = country_prefix(caller.get("number") or "+33")
    if not limits.get("international", True) and country_prefix(number) != own:
        return Refusal(403, "Forbidden", "international calls barred on this line")
    premium = limits.get("premium_prefixes") or ()
    if not limits.get("premium_rate", True) and any(number.startswith(p) for p in premium):
        return Refusal(403, "Forbidden", "premium-rate calls barred on this line")
    mode = limits.get("number_list_mode") or "none"
    listed = any(number.startswith(entry) for entry in limits.get("number_list") or ())
    if mode == "allow" and not listed:
        return Refusal(403, "Forbidden", "number not in the line's allow-list")
    if mode == "block" and listed:
        return Refusal(403, "Forbidden", "number in the line's block-list")
    return None


def internal_refusal(caller: Mapping[str, Any]) -> Refusal | None:
    """Why the caller's line may not call another line or number of the operator."""
    limits = caller.get("limits") or {}
    if not caller.get("accepts_calls") or not limits.get("outgoing_calls"):
        return Refusal(403, "Forbidden", "outgoing calls barred on this line")
    return None


def is_emergency(number: str) -> bool:
    return number.lstrip("+") in EMERGENCY_NUMBERS


TOLL_FREE_PREFIXES = ("+3380", "+32800", "+41800", "+1800", "+1888", "+1877", "+1866", "+1855")


def is_toll_free(number: str) -> bool:
    """Free for the caller: such calls pass even once the spending cap is reached."""
    return number.startswith(TOLL_FREE_PREFIXES)


def incoming_refusal(
    callee: Mapping[str, Any], anonymous_caller: bool, caller_number: str | None = None
) -> Refusal | None:
    """Why the called line or number refuses the call before ringing (None: it rings)."""
    if not callee.get("accepts_calls"):
        return Refusal(480, "Temporarily Unavailable", f"number {callee.get('state')}")
    if callee.get("reject_anonymous") and anonymous_caller:
        return Refusal(433, "Anonymity Disallowed", "the line refuses anonymous calls")
    blocked = callee.get("blocked_callers") or ()
    if caller_number and not anonymous_caller and any(caller_number.startswith(b) for b in blocked):
        return Refusal(603, "Decline", "the line refuses this caller")
    return None


def call_limit_refusal(in_progress: int, limit: int | None, whose: str) -> Refusal | None:
    """The call over the limit of simultaneous calls is refused (busy, with the reason)."""
    if limit is not None and limit > 0 and in_progress >= limit:
        return Refusal(486, "Busy Here", f"simultaneous call limit of {whose} reached ({limit})")
    return None


# --- Destinations --------------------------------------------------------------------------------
RecordLookup = Callable[[str], "Mapping[str, Any] | None"]


def media_destination(target: str) -> Destination:
    return Destination(kind="media", number=target)


def line_destination(record: Mapping[str, Any]) -> Destination:
    return Destination(
        kind="line",
        number=record["number"],
        sip_user=(record.get("sip") or {}).get("username"),
        record=record,
    )


def destination_of(number: str, lookup: RecordLookup) -> Destination:
    """A number reached by a forward or a redirect: the operator's line, or the outside."""
    record = lookup(number)
    if record is not None and record.get("sip"):
        return line_destination(record)
    return Destination(kind="external", number=number, record=record)


def forward_for(callee: Mapping[str, Any], condition: str) -> Mapping[str, Any] | None:
    """The forward the callee line set for this condition, if any."""
    forwards = callee.get("forwards") or {}
    value = forwards.get(condition)
    return value if value else None


def forward_destination(
    callee: Mapping[str, Any], forward: Mapping[str, Any], lookup: RecordLookup
) -> Destination:
    if forward.get("target") == TARGET_VOICEMAIL:
        return media_destination(f"voicemail:{callee['number']}")
    return destination_of(str(forward.get("number")), lookup)


def no_answer_delay(callee: Mapping[str, Any]) -> int | None:
    """Seconds the line rings before its no-answer forward applies (None: no such forward)."""
    forward = forward_for(callee, NO_ANSWER)
    if forward is None:
        return None
    return int(forward.get("delay") or DEFAULT_NO_ANSWER_DELAY)


def plan_for_line(callee: Mapping[str, Any], lookup: RecordLookup, *, hops: int = 0) -> Plan:
    """A call to a line: its unconditional forward, do-not-disturb (busy), or ring it."""
    forward = forward_for(callee, UNCONDITIONAL)
    if forward is not None and hops < MAX_FORWARD_HOPS:
        destination = forward_destination(callee, forward, lookup)
        if destination.kind == "line" and destination.record is not None:
            follow = plan_for_line(destination.record, lookup, hops=hops + 1)
            return Plan(
                route=ROUTE_FORWARDED,
                destinations=follow.destinations,
                ring_timeout=follow.ring_timeout,
                refusal=follow.refusal,
                line_number=follow.line_number,
            )
        return Plan(route=ROUTE_FORWARDED, destinations=(destination,), line_number=None)
    if callee.get("do_not_disturb"):
        busy = forward_for(callee, BUSY)
        if busy is not None:
            return Plan(
                route=ROUTE_FORWARDED, destinations=(forward_destination(callee, busy, lookup),)
            )
        return refused(486, "Busy Here", "do not disturb")
    return Plan(
        route=ROUTE_DIRECT,
        destinations=(line_destination(callee),),
        ring_timeout=no_answer_delay(callee),
        line_number=callee["number"],
    )


def plan_on_failure(callee: Mapping[str, Any], condition: str, lookup: RecordLookup) -> Plan | None:
    """After the line was busy, did not answer or was unreachable: its forward, if any."""
    forward = forward_for(callee, condition)
    if forward is None:
        return None
    return Plan(route=ROUTE_FORWARDED, destinations=(forward_destination(callee, forward, lookup),))


def failure_condition(code: int) -> str:
    """The forwarding condition a final failure answer stands for."""
    if code in (486, 600):
        return BUSY
    if code in (408, 487):
        return NO_ANSWER
    return UNREACHABLE


def plan_for_alias(
    alias: Mapping[str, Any],
    lookup: RecordLookup,
    *,
    member_available: Callable[[Mapping[str, Any]], bool],
    rotation: int = 0,
) -> Plan:
    """A call to an alias number, by its compiled configuration."""
    configuration = alias.get("alias_configuration")
    if not configuration:
        return refused(480, "Temporarily Unavailable", "number not configured")
    kind = configuration.get("type")
    if kind == "redirect":
        redirect = configuration["redirect"]
        destination = destination_of(str(redirect["number"]), lookup)
        return Plan(
            route=ROUTE_ALIAS,
            destinations=(destination,),
            presented_number=alias["number"] if redirect.get("present_alias") else None,
            line_number=destination.number if destination.kind == "line" else None,
        )
    if kind == "queue":
        return plan_for_queue(
            configuration["queue"], lookup, member_available=member_available, rotation=rotation
        )
    if kind in ("ivr", "contact_center", "conference"):
        return Plan(
            route=ROUTE_MEDIA, destinations=(media_destination(f"{kind}:{alias['number']}"),)
        )
    return refused(480, "Temporarily Unavailable", f"unknown configuration {kind}")


def plan_for_queue(
    queue: Mapping[str, Any],
    lookup: RecordLookup,
    *,
    member_available: Callable[[Mapping[str, Any]], bool],
    rotation: int = 0,
) -> Plan:
    """Ring-all forks to every available member at once; sequential and round-robin ring them one
    after another (round-robin starts one further at each call). Busy or unregistered members,
    and agents not available, are skipped."""
    members: list[Destination] = []
    for member in queue.get("members") or []:
        if member.get("status", "available") != "available":
            continue
        destination = destination_of(str(member["number"]), lookup)
        if destination.kind == "line":
            if destination.record is None or not destination.record.get("accepts_calls"):
                continue
            if destination.record.get("do_not_disturb") or not member_available(destination.record):
                continue
        members.append(destination)
    if not members:
        return refused(480, "Temporarily Unavailable", "no queue member available")
    strategy = queue.get("strategy") or "ring_all"
    if strategy == "round_robin" and members:
        start = rotation % len(members)
        members = members[start:] + members[:start]
    return Plan(
        route=ROUTE_QUEUE,
        destinations=tuple(members),
        parallel=strategy == "ring_all",
        ring_timeout=int(queue.get("ring_timeout") or 20),
    )


def disposition(code: int) -> str:
    """How a call ended, from its final SIP answer."""
    if 200 <= code < 300:
        return DISPOSITION_ANSWERED
    if code in (486, 600):
        return DISPOSITION_BUSY
    if code in (408, 480, 487):
        return DISPOSITION_NO_ANSWER
    if code in (403, 404, 433, 484, 488, 503, 603):
        return DISPOSITION_REFUSED
    return DISPOSITION_FAILED


def presented_identity(
    caller: Mapping[str, Any], hide_once: bool = False
) -> tuple[str | None, bool]:
    """The number put in P-Asserted-Identity and whether Privacy: id is asked (caller ID hidden
    by the line's setting or for this call by *31#)."""
    caller_id = caller.get("caller_id") or {}
    number = caller_id.get("number") or caller.get("number")
    hidden = hide_once or caller_id.get("mode") == "hidden"
    return number, hidden


# --- Message-waiting indication (RFC 3842) -------------------------------------------------------
@dataclass(frozen=True)
class WaitingMessages:
    new: int
    saved: int  # listened to and kept


def message_summary_body(waiting: WaitingMessages, account_uri: str) -> str:
    """The body of a `message-summary` NOTIFY: whether messages wait, and how many new and old."""
    return (
        f"Messages-Waiting: {'yes' if waiting.new > 0 else 'no'}\r\n"
        f"Message-Account: {account_uri}\r\n"
        f"Voice-Message: {waiting.new}/{waiting.saved} (0/0)\r\n"
    )
