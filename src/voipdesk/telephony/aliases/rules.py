"""Rules of alias number configurations, as plain Python (no I/O).

A number has one configuration of one type (none, redirect, queue, IVR, contact center,
conference). The customer's configuration is checked here (`check_*`), then compiled
(`compile_configuration`) into the JSON the switch reads in one lookup per call. Settings are the
plain dicts of `schemas` (`model_dump()`), numbers already in E.164 unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers

from voipdesk.core.i18n import N_
from voipdesk.telephony.aliases import errors

# --- Types ----------------------------------------------------------------------------------------
NONE = "none"
REDIRECT = "redirect"
QUEUE = "queue"
IVR = "ivr"
CONTACT_CENTER = "contact_center"
CONFERENCE = "conference"
TYPES = (NONE, REDIRECT, QUEUE, IVR, CONTACT_CENTER, CONFERENCE)
TYPE_LABELS = errors.TYPE_LABELS  # labels live with the errors that show them
MENU_TYPES = (IVR, CONTACT_CENTER)  # the types made of menus and queues


def needs_confirmation(current: str, new: str) -> bool:
    """Choosing another type deletes the current configuration ("Supprimer la configuration"):
    the customer confirms it first. Nothing to delete when there is none."""
    return current != NONE and current != new


# --- Queues ---------------------------------------------------------------------------------------
RING_ALL = "ring_all"
SEQUENTIAL = "sequential"
ROUND_ROBIN = "round_robin"
LONGEST_IDLE = "longest_idle"
STRATEGIES = (RING_ALL, SEQUENTIAL, ROUND_ROBIN, LONGEST_IDLE)
STRATEGY_LABELS = {
    RING_ALL: N_("Ring all members at once"),
    SEQUENTIAL: N_("One after the other, in order"),
    ROUND_ROBIN: N_("In turn (round robin)"),
    LONGEST_IDLE: N_("The member idle for the longest time"),
}
RING_TIMEOUT = (5, 120)  # seconds each member rings
DEFAULT_RING_TIMEOUT = 20
MAX_WAIT = (10, 3600)  # seconds a caller waits in the queue before the overflow
DEFAULT_MAX_WAIT = 300
MAX_MEMBERS = 50
MUSIC_DEFAULT = "default"
MUSIC_NONE = "none"
MUSIC_AUDIO = "audio"
MEMBER_LINE = "line"
MEMBER_NUMBER = "number"

# --- IVR ------------------------------------------------------------------------------------------
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#")
TO_LINE = "line"
TO_QUEUE = "queue"
TO_SUBMENU = "submenu"
TO_VOICEMAIL = "voicemail"
TO_NUMBER = "number"
TO_MESSAGE = "message"
ACTIONS = (TO_LINE, TO_QUEUE, TO_SUBMENU, TO_VOICEMAIL, TO_NUMBER, TO_MESSAGE)
ACTION_LABELS = {
    TO_LINE: N_("Ring a line"),
    TO_QUEUE: N_("Call queue"),
    TO_SUBMENU: N_("Submenu"),
    TO_VOICEMAIL: N_("Voicemail of a line"),
    TO_NUMBER: N_("Another number"),
    TO_MESSAGE: N_("Play a message"),
}
# Where a call may go on overflow or outside opening hours (guide: voicemail, message, number).
FALLBACK_ACTIONS = (TO_VOICEMAIL, TO_MESSAGE, TO_NUMBER)
WAY_OUT = frozenset(ACTIONS) - {TO_SUBMENU}  # a call that reaches one of these leaves the menus
MAX_MENUS = 20
MAX_QUEUES = 10
ROOT_MENU = "main"

# --- Contact center agents ------------------------------------------------------------------------
AVAILABLE = "available"
ON_BREAK = "on_break"
LOGGED_OUT = "logged_out"
AGENT_STATUSES = (AVAILABLE, ON_BREAK, LOGGED_OUT)
AGENT_STATUS_LABELS = {
    AVAILABLE: N_("Available"),
    ON_BREAK: N_("On break"),
    LOGGED_OUT: N_("Logged out"),
}
# Dialled from an agent's line: the same use case as the contact center page (one writer).
AGENT_STAR_CODES = {"*45#": AVAILABLE, "*46#": ON_BREAK, "#45#": LOGGED_OUT}

# --- Conference -----------------------------------------------------------------------------------
PIN_LENGTH = (4, 8)

# --- Opening hours --------------------------------------------------------------------------------
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}
HOLIDAY_COUNTRIES = {"FR": None, "BE": None, "CH": None, "CA": "QC"}  # country -> default subdiv
HOLIDAY_YEARS_COMPILED = 2  # this year and the next, listed in the compiled record


def holiday_country_of(account_country: str) -> str:
    """The public-holiday calendar of an account's country (CA-QC -> CA)."""
    return account_country.split("-")[0]


# --- Numbers --------------------------------------------------------------------------------------
def normalise_number(text: str, region: str) -> str:
    """A dialable number in E.164: international (+...) or national in `region`; refused if
    phonenumbers says it is not a valid number."""
    cleaned = (text or "").strip()
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        raise errors.InvalidNumber(
            number=cleaned, fields={"number": "Not a valid number."}
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise errors.InvalidNumber(number=cleaned, fields={"number": "Not a valid number."})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def redirect_chain(start: str, redirects: Mapping[str, str]) -> list[str] | None:
    """Follows redirects (alias -> destination) from `start`; the chain when it comes back to a
    number already seen (a loop), None when it ends on a line or outside number."""
    chain = [start]
    seen = {start}
    current = start
    while current in redirects:
        current = redirects[current]
        chain.append(current)
        if current in seen:
            return chain
        seen.add(current)
    return None


def check_pin(pin: str | None) -> None:
    if not pin:
        return
    digits = [int(ch) for ch in pin]
    steps = {b - a for a, b in pairwise(digits)}
    if len(set(digits)) == 1 or steps in ({1}, {-1}):
        raise errors.TrivialPin(pin=pin, fields={"pin": "Too easy to guess."})


# --- Opening hours --------------------------------------------------------------------------------
def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def check_opening_hours(hours: Mapping[str, Any] | None) -> None:
    if not hours:
        return
    try:
        ZoneInfo(hours.get("timezone") or "Europe/Paris")
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.UnknownTimezone(
            timezone=hours.get("timezone"), fields={"opening_hours.timezone": "Unknown time zone."}
        ) from None
    country = hours.get("holidays_country")
    if country and country not in HOLIDAY_COUNTRIES:
        raise errors.UnknownHolidayCountry(country=country)
    for period in hours.get("periods") or []:
        if _minutes(period["start"]) >= _minutes(period["end"]):
            raise errors.InvalidOpeningHours(
                start=period["start"],
                end=period["end"],
                fields={"opening_hours.periods": "A period ends after it starts."},
            )


def public_holidays(country: str, subdivision: str | None, years: Iterable[int]) -> list[date]:
    found = holidays.country_holidays(
        country, subdiv=subdivision or HOLIDAY_COUNTRIES.get(country), years=list(years)
    )
    return sorted(found.keys())


def is_open(hours: Mapping[str, Any] | None, instant: datetime) -> bool:
    """Whether a call at `instant` (aware) comes within the opening hours: a period of that
    weekday, local time, and not a public holiday of the chosen country. No hours: always open."""
    if not hours:
        return True
    local = instant.astimezone(ZoneInfo(hours.get("timezone") or "Europe/Paris"))
    country = hours.get("holidays_country")
    if country and local.date() in public_holidays(
        country, hours.get("holidays_subdivision"), [local.year]
    ):
        return False
    day = DAYS[local.weekday()]
    minute = local.hour * 60 + local.minute
    return any(
        day in period["days"] and _minutes(period["start"]) <= minute < _minutes(period["end"])
        for period in hours.get("periods") or []
    )


# --- The context a configuration is checked in ----------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What the billing group holds, for checking destinations."""

    number: str  # the alias being configured (E.164)
    lines: frozenset[str]  # the group's live SIP lines (E.164)
    audio: frozenset[str] = frozenset()  # recordings uploaded for this number (ids)
    redirects: Mapping[str, str] = field(default_factory=dict)  # the group's other redirects


def _where(menu: str | None, key: str | None, fallback: str) -> str:
    """Where a choice is, as the customer named it: `"Main menu" 1`, or a fallback code
    (overflow, closed, no_input) that errors show by its label."""
    if menu and key:
        return f'"{menu}" {key}'
    return fallback


def check_prompt(prompt: Mapping[str, Any] | None, context: Context) -> None:
    if prompt and prompt.get("audio_id") and prompt["audio_id"] not in context.audio:
        raise errors.AudioNotFound(audio=prompt["audio_id"])


def check_destination(
    destination: Mapping[str, Any],
    context: Context,
    *,
    queues: frozenset[str] = frozenset(),
    menus: frozenset[str] = frozenset(),
    menu: str | None = None,
    key: str | None = None,
    where: str = "",
) -> None:
    """One choice of a menu, an overflow or a closed-hours route: its target must exist."""
    action = destination["action"]
    target = destination.get("target")
    place = _where(menu, key, where)
    if action in (TO_LINE, TO_VOICEMAIL):
        if not target:
            raise errors.DestinationIncomplete(where=place, needs="line")
        if target not in context.lines:
            raise errors.NotALineOfTheGroup(number=target)
    elif action == TO_NUMBER:
        if not target:
            raise errors.DestinationIncomplete(where=place, needs="number")
        if target == context.number:
            raise errors.DestinationIsThisNumber(number=target)
    elif action == TO_QUEUE:
        if not target or target not in queues:
            raise errors.IvrUnknownQueue(menu=menu or where)
    elif action == TO_SUBMENU:
        if not target or target not in menus:
            raise errors.IvrUnknownMenu(menu=menu or where, key=key or "")
    elif action == TO_MESSAGE:
        message = destination.get("message")
        if not message or not (message.get("text") or message.get("audio_id")):
            raise errors.DestinationIncomplete(where=place, needs="message")
        check_prompt(message, context)


def check_queue(queue: Mapping[str, Any], context: Context) -> None:
    name = queue.get("name") or queue.get("id") or QUEUE
    members = queue.get("members") or []
    if not members:
        raise errors.QueueWithoutMembers(
            queue=name, fields={"queue.members": "Add at least one member."}
        )
    if len(members) > MAX_MEMBERS:
        raise errors.TooManyMembers(maximum=MAX_MEMBERS)
    seen: set[str] = set()
    for member in members:
        number = member["number"]
        if number in seen:
            raise errors.QueueMemberTwice(number=number, queue=name)
        seen.add(number)
        if member["kind"] == MEMBER_LINE and number not in context.lines:
            raise errors.NotALineOfTheGroup(number=number)
        if member["kind"] == MEMBER_NUMBER and number == context.number:
            raise errors.DestinationIsThisNumber(number=number)
    if queue.get("music_on_hold") == MUSIC_AUDIO:
        check_prompt({"audio_id": queue.get("music_audio_id") or "-"}, context)
    check_opening_hours(queue.get("opening_hours"))
    for part in ("overflow", "closed"):
        if queue.get(part):
            check_destination(queue[part], context, where=part)


def check_menus(menus: list[Mapping[str, Any]], root: str, queue_ids: frozenset[str]) -> list[str]:
    """The IVR tree's own rules (no group data needed): one choice per key, known targets, every
    menu reachable from the first one, and a way out of every menu (a path of keys to a line,
    queue, voicemail, number or message). Returns the menus in the order a caller meets them."""
    if len(menus) > MAX_MENUS:
        raise errors.TooManyMenus(maximum=MAX_MENUS, queues=MAX_QUEUES)
    by_id: dict[str, Mapping[str, Any]] = {}
    for menu in menus:
        if menu["id"] in by_id:
            raise errors.IvrDuplicateMenu(menu=menu["id"])
        by_id[menu["id"]] = menu
    if root not in by_id:
        raise errors.IvrNoMenu(root=root)
    for menu in menus:
        label = menu.get("name") or menu["id"]
        used: set[str] = set()
        for choice in menu.get("keys") or []:
            if choice["key"] in used:
                raise errors.IvrKeyUsedTwice(
                    key=choice["key"], menu=label, fields={"menus.keys": "One choice per key."}
                )
            used.add(choice["key"])
            if choice["action"] == TO_SUBMENU and choice.get("target") not in by_id:
                raise errors.IvrUnknownMenu(menu=label, key=choice["key"])
            if choice["action"] == TO_QUEUE and choice.get("target") not in queue_ids:
                raise errors.IvrUnknownQueue(menu=label)
    # Reachability, in the order a caller meets the menus (breadth first, keys in keypad order).
    order = [root]
    index = 0
    while index < len(order):
        for choice in _keys_in_order(by_id[order[index]]):
            target = choice.get("target")
            if choice["action"] == TO_SUBMENU and target and target not in order:
                order.append(target)
        index += 1
    for menu in menus:
        if menu["id"] not in order:
            raise errors.IvrMenuUnreachable(menu=menu.get("name") or menu["id"])
    # A way out: the menus with a leaving key, then those leading to one of them, to a fixpoint.
    out = {m["id"] for m in menus if any(c["action"] in WAY_OUT for c in m.get("keys") or [])}
    grew = True
    while grew:
        grew = False
        for menu in menus:
            if menu["id"] not in out and any(
                c["action"] == TO_SUBMENU and c.get("target") in out for c in menu.get("keys") or []
            ):
                out.add(menu["id"])
                grew = True
    for menu_id in order:
        if menu_id not in out:
            raise errors.IvrMenuWithoutWayOut(menu=by_id[menu_id].get("name") or menu_id)
    return order


def _keys_in_order(menu: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return sorted(menu.get("keys") or [], key=lambda c: KEYS.index(c["key"]))


def check_configuration(kind: str, settings: Mapping[str, Any], context: Context) -> None:
    """Every rule of one configuration; raises the first broken one (nothing is stored)."""
    if kind == REDIRECT:
        destination = settings["destination"]
        if destination == context.number:
            raise errors.DestinationIsThisNumber(number=destination)
        chain = redirect_chain(context.number, {**context.redirects, context.number: destination})
        if chain is not None:
            raise errors.RedirectLoop(destination=destination, chain=" → ".join(chain))
    elif kind == QUEUE:
        check_queue(settings["queue"], context)
    elif kind in MENU_TYPES:
        queues = settings.get("queues") or []
        if len(queues) > MAX_QUEUES:
            raise errors.TooManyMenus(maximum=MAX_MENUS, queues=MAX_QUEUES)
        queue_ids: set[str] = set()
        for queue in queues:
            if queue["id"] in queue_ids:
                raise errors.IvrDuplicateQueue(queue=queue["id"])
            queue_ids.add(queue["id"])
            check_queue(queue, context)
        menus = settings.get("menus") or []
        root = settings.get("root") or ROOT_MENU
        check_menus(menus, root, frozenset(queue_ids))
        check_prompt(settings.get("greeting"), context)
        menu_ids = frozenset(m["id"] for m in menus)
        for menu in menus:
            check_prompt(menu.get("prompt"), context)
            for choice in menu.get("keys") or []:
                check_destination(
                    choice,
                    context,
                    queues=frozenset(queue_ids),
                    menus=menu_ids,
                    menu=menu.get("name") or menu["id"],
                    key=choice["key"],
                )
        check_opening_hours(settings.get("opening_hours"))
        for part in ("closed", "no_input"):
            if settings.get(part):
                check_destination(settings[part], context, where=part)
    elif kind == CONFERENCE:
        check_pin(settings.get("pin"))


def agents_of(kind: str, settings: Mapping[str, Any]) -> list[str]:
    """A contact center's agents: the lines that are members of its queues, in order."""
    if kind != CONTACT_CENTER:
        return []
    found: list[str] = []
    for queue in settings.get("queues") or []:
        for member in queue.get("members") or []:
            if member["kind"] == MEMBER_LINE and member["number"] not in found:
                found.append(member["number"])
    return found


def numbers_named(kind: str, settings: Mapping[str, Any]) -> set[str]:
    """The lines a configuration names, and a redirect's destination (a line or another number):
    when a service with one of these numbers changes, the configuration is compiled again."""
    found = lines_named(kind, settings)
    if kind == REDIRECT and settings.get("destination"):
        found.add(settings["destination"])
    return found


def lines_named(kind: str, settings: Mapping[str, Any]) -> set[str]:
    """Every line a configuration sends calls to as a line (queue members, a key or route to a
    line or its voicemail); they were lines of the group when it was saved."""
    found: set[str] = set()

    def destination(item: Any) -> None:
        is_line = isinstance(item, Mapping) and item.get("action") in (TO_LINE, TO_VOICEMAIL)
        if is_line and item.get("target"):
            found.add(item["target"])

    def queue(item: Mapping[str, Any]) -> None:
        found.update(m["number"] for m in item.get("members") or [] if m["kind"] == MEMBER_LINE)
        destination(item.get("overflow"))
        destination(item.get("closed"))

    if kind == QUEUE:
        queue(settings["queue"])
    elif kind in MENU_TYPES:
        for item in settings.get("queues") or []:
            queue(item)
        for menu in settings.get("menus") or []:
            for choice in menu.get("keys") or []:
                destination(choice)
        destination(settings.get("closed"))
        destination(settings.get("no_input"))
    return found


# --- Compiling for the switch ---------------------------------------------------------------------
def sip_user(number: str) -> str:
    """The SIP user of a line: its number without "+" (as subscriptions provisions it)."""
    return number.lstrip("+")


def _prompt(prompt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not prompt:
        return None
    compiled: dict[str, Any] = {"audio_id": prompt.get("audio_id")}
    if prompt.get("text"):
        compiled["text"] = prompt["text"]
        compiled["language"] = prompt.get("language") or "fr"
    return compiled


def _destination(
    destination: Mapping[str, Any] | None, gone: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    if not destination:
        return None
    action = destination["action"]
    compiled: dict[str, Any] = {"action": action}
    target = destination.get("target")
    if action in (TO_LINE, TO_VOICEMAIL):
        compiled.update(number=target, sip_user=sip_user(target or ""))
        if target in gone:
            compiled["available"] = False  # the line has ended: nothing rings there
    elif action == TO_NUMBER:
        compiled["number"] = target
    elif action in (TO_QUEUE, TO_SUBMENU):
        compiled["target"] = target
    elif action == TO_MESSAGE:
        compiled["message"] = _prompt(destination.get("message"))
    return compiled


def _hours(hours: Mapping[str, Any] | None, year: int) -> dict[str, Any] | None:
    if not hours:
        return None
    compiled = {
        "timezone": hours.get("timezone") or "Europe/Paris",
        "periods": [
            {"days": list(p["days"]), "start": p["start"], "end": p["end"]}
            for p in hours.get("periods") or []
        ],
        "holidays_country": hours.get("holidays_country"),
        "holidays": [],
    }
    if hours.get("holidays_country"):
        compiled["holidays"] = [
            day.isoformat()
            for day in public_holidays(
                hours["holidays_country"],
                hours.get("holidays_subdivision"),
                range(year, year + HOLIDAY_YEARS_COMPILED),
            )
        ]
    return compiled


def _queue(
    queue: Mapping[str, Any],
    year: int,
    statuses: Mapping[str, str] | None,
    gone: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    members = []
    for member in queue.get("members") or []:
        if member["kind"] == MEMBER_LINE and member["number"] in gone:
            continue  # an ended line is no longer rung (the customer's settings still name it)
        item: dict[str, Any] = {"kind": member["kind"], "number": member["number"]}
        if member["kind"] == MEMBER_LINE:
            item["sip_user"] = sip_user(member["number"])
            if statuses is not None:
                item["status"] = statuses.get(member["number"], AVAILABLE)
        members.append(item)
    music = queue.get("music_on_hold") or MUSIC_DEFAULT
    return {
        "id": queue.get("id") or QUEUE,
        "name": queue.get("name") or "",
        "strategy": queue.get("strategy") or RING_ALL,
        "ring_timeout": queue.get("ring_timeout") or DEFAULT_RING_TIMEOUT,
        "max_wait": queue.get("max_wait") or DEFAULT_MAX_WAIT,
        "music_on_hold": {"kind": music, "audio_id": queue.get("music_audio_id")}
        if music == MUSIC_AUDIO
        else {"kind": music},
        "members": members,
        "overflow": _destination(queue.get("overflow"), gone),
        "opening_hours": _hours(queue.get("opening_hours"), year),
        "closed": _destination(queue.get("closed"), gone),
    }


def compile_configuration(
    number: str,
    kind: str,
    settings: Mapping[str, Any],
    version: int,
    *,
    year: int,
    agent_statuses: Mapping[str, str] | None = None,
    gone_lines: Iterable[str] = (),
) -> dict[str, Any]:
    """What the switch needs for one call to `number`, resolved: members with their SIP users,
    menus by id with their keys, prompts by recording id, holidays as dates (`year` and next).
    `gone_lines`: lines named by the settings that have ended (terminated, deleted, converted):
    they are left out of queues and agents, and a key or route to one says it is unavailable."""
    gone = frozenset(gone_lines)
    compiled: dict[str, Any] = {"number": number, "type": kind, "version": version}
    if kind == REDIRECT:
        destination = settings["destination"]
        compiled["redirect"] = {
            "number": destination,
            "present_alias": bool(settings.get("present_alias")),
        }
        if destination in gone:
            compiled["redirect"]["available"] = False
    elif kind == QUEUE:
        compiled["queue"] = _queue(settings["queue"], year, None, gone)
    elif kind in MENU_TYPES:
        statuses = dict(agent_statuses or {}) if kind == CONTACT_CENTER else None
        compiled.update(
            greeting=_prompt(settings.get("greeting")),
            root=settings.get("root") or ROOT_MENU,
            menus={
                menu["id"]: {
                    "name": menu.get("name") or menu["id"],
                    "prompt": _prompt(menu.get("prompt")),
                    "keys": {c["key"]: _destination(c, gone) for c in _keys_in_order(menu)},
                }
                for menu in settings.get("menus") or []
            },
            queues={
                queue["id"]: _queue(queue, year, statuses, gone)
                for queue in settings.get("queues") or []
            },
            opening_hours=_hours(settings.get("opening_hours"), year),
            closed=_destination(settings.get("closed"), gone),
            no_input=_destination(settings.get("no_input"), gone),
        )
        if kind == CONTACT_CENTER:
            compiled["recording"] = bool(settings.get("recording"))
            compiled["agents"] = {
                line: (statuses or {}).get(line, AVAILABLE)
                for line in agents_of(kind, settings)
                if line not in gone
            }
    elif kind == CONFERENCE:
        compiled["conference"] = {
            "pin": settings.get("pin") or None,
            "muted_on_entry": bool(settings.get("muted_on_entry")),
            "recording": bool(settings.get("recording")),
        }
    return compiled


def text_prompts(kind: str, settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every prompt given as text (to be spoken by text-to-speech), to give it a recording."""
    found: list[dict[str, Any]] = []

    def visit(prompt: Any) -> None:
        if isinstance(prompt, dict) and prompt.get("text"):
            found.append(prompt)

    def visit_destination(destination: Any) -> None:
        if isinstance(destination, dict) and destination.get("action") == TO_MESSAGE:
            visit(destination.get("message"))

    def visit_queue(queue: Mapping[str, Any]) -> None:
        visit_destination(queue.get("overflow"))
        visit_destination(queue.get("closed"))

    if kind == QUEUE:
        visit_queue(settings["queue"])
    elif kind in MENU_TYPES:
        visit(settings.get("greeting"))
        for menu in settings.get("menus") or []:
            visit(menu.get("prompt"))
            for choice in menu.get("keys") or []:
                visit_destination(choice)
        for queue in settings.get("queues") or []:
            visit_queue(queue)
        visit_destination(settings.get("closed"))
        visit_destination(settings.get("no_input"))
    return found


# --- Recordings (prompts) -------------------------------------------------------------------------
MAX_AUDIO_BYTES = 10 * 1024 * 1024  # an uploaded file
MAX_AUDIO_SECONDS = 300  # once converted
TELEPHONY_RATE = 8000  # Hz: WAV, mono, 16-bit signed, what the media service plays
MAX_SPEECH_CHARACTERS = 600


def audio_format(head: bytes) -> str | None:
    """ "wav" or "mp3" from a file's first bytes; None for anything else."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None
