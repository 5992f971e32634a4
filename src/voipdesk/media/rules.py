"""The media service's decisions, without input or output: which target a request URI names,
which codec an offer gets, the voicemail's limits and prompts, the 123 menu's keys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from voipdesk.core.i18n import gettext


def N_(message: str) -> str:
    return message


# The switch names the target in the request URI's user: "<kind>-<E.164 digits without +>".
KIND_VOICEMAIL = "voicemail"  # leave a message on this line's voicemail
KIND_VOICEMAIL_ACCESS = "voicemail-access"  # the line itself listens to its messages (123)
KIND_CONFERENCE = "conference"  # a conference room (an alias number configured so)
KIND_IVR = "ivr"
KIND_CONTACT_CENTER = "contact_center"
KINDS = (KIND_VOICEMAIL_ACCESS, KIND_VOICEMAIL, KIND_CONFERENCE, KIND_IVR, KIND_CONTACT_CENTER)
SUPPORTED_KINDS = (KIND_VOICEMAIL, KIND_VOICEMAIL_ACCESS, KIND_CONFERENCE, KIND_IVR)

_TARGET = re.compile(r"^(?P<kind>[a-z_-]+?)-(?P<digits>\d{4,15})$")


@dataclass(frozen=True)
class Target:
    kind: str
    number: str  # E.164 with "+"

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.number.lstrip('+')}"


def parse_target(user: str) -> Target | None:
    """The target named by the request URI's user part; None when it names none."""
    match = _TARGET.match(user or "")
    if match is None or match["kind"] not in KINDS:
        return None
    return Target(match["kind"], "+" + match["digits"])


# --- Codecs (RFC 3551 static payload types) -------------------------------------------------------
PCMU = 0
PCMA = 8
CODEC_NAMES = {PCMU: "PCMU", PCMA: "PCMA"}
TELEPHONE_EVENT = "telephone-event"
DEFAULT_EVENT_TYPE = 101
SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160 samples per 20 ms frame
FRAME_BYTES = FRAME_SAMPLES * 2  # as 16-bit linear


@dataclass(frozen=True)
class Offer:
    address: str
    port: int
    payload_types: tuple[int, ...]  # in the offer's order of preference
    rtpmap: dict[int, str]  # payload type -> "NAME/rate"


@dataclass(frozen=True)
class Answer:
    codec: int
    event_type: int | None  # the offer's telephone-event payload type, when it offers one


def parse_sdp(body: str) -> Offer | None:
    address, port = "", 0
    types: tuple[int, ...] = ()
    rtpmap: dict[int, str] = {}
    in_audio = False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("c=IN IP4 ") and (not address or in_audio):
            address = line.split()[2]
        elif line.startswith("m="):
            parts = line[2:].split()
            in_audio = parts[0] == "audio" and len(parts) >= 4 and not types
            if in_audio:
                port = int(parts[1])
                types = tuple(int(p) for p in parts[3:] if p.isdigit())
        elif line.startswith("a=rtpmap:") and in_audio:
            number, _, name = line[len("a=rtpmap:") :].partition(" ")
            if number.isdigit():
                rtpmap[int(number)] = name.strip()
    if not address or not types:
        return None
    return Offer(address, port, types, rtpmap)


def choose(offer: Offer) -> Answer | None:
    """The first G.711 codec of the offer (its preference), and its telephone-event type."""
    codec = next((pt for pt in offer.payload_types if pt in CODEC_NAMES), None)
    if codec is None:
        return None
    event = next(
        (
            pt
            for pt in offer.payload_types
            if offer.rtpmap.get(pt, "").lower().startswith(TELEPHONE_EVENT)
        ),
        None,
    )
    return Answer(codec, event)


def sdp_answer(address: str, port: int, answer: Answer, session_id: int) -> str:
    types = [str(answer.codec)] + ([str(answer.event_type)] if answer.event_type else [])
    lines = [
        "v=0",
        f"o=voipdesk {session_id} {session_id} IN IP4 {address}",
        "s=voipdesk media",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(types)}",
        f"a=rtpmap:{answer.codec} {CODEC_NAMES[answer.codec]}/{SAMPLE_RATE}",
    ]
    if answer.event_type:
        lines += [
            f"a=rtpmap:{answer.event_type} {TELEPHONE_EVENT}/{SAMPLE_RATE}",
            f"a=fmtp:{answer.event_type} 0-15",
        ]
    lines += ["a=ptime:20", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


# RFC 4733 events 0-15: the keypad.
DTMF_KEYS = "0123456789*#ABCD"


def dtmf_key(event: int) -> str | None:
    return DTMF_KEYS[event] if 0 <= event < len(DTMF_KEYS) else None


# --- Voicemail ------------------------------------------------------------------------------------
MESSAGE_MAX_SECONDS = 180  # a message is cut after three minutes
SILENCE_END_SECONDS = 8  # this long without speech ends the recording
SILENCE_LEVEL = 200  # RMS of a 16-bit frame under which it counts as silence
MESSAGE_MIN_SECONDS = 1.0  # shorter (a caller who hangs up at the tone) is not stored
SETUP_TIMEOUT_SECONDS = 5  # to load the target's settings before answering

GREETING_STANDARD = N_(
    "You have reached the voicemail of %(number)s. Please leave a message after the tone."
)
GREETING_NAME = N_(
    "You have reached the voicemail of %(name)s. Please leave a message after the tone."
)
VOICEMAIL_OFF = N_("This voicemail does not take messages.")


def spoken_number(number: str) -> str:
    """A number as it is said, digit by digit; French numbers in their national form."""
    digits = number.lstrip("+")
    if number.startswith("+33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return " ".join(digits)


def greeting_text(language: str, kind: str, number: str, name: str | None) -> str:
    if kind == "name" and name:
        return gettext(language, GREETING_NAME, name=name)
    return gettext(language, GREETING_STANDARD, number=spoken_number(number))


def is_silence(rms: int) -> bool:
    return rms < SILENCE_LEVEL


def recording_over(seconds: float, silent_seconds: float) -> str | None:
    """Why the recording stops now (None: it goes on)."""
    if seconds >= MESSAGE_MAX_SECONDS:
        return "maximum length"
    if silent_seconds >= SILENCE_END_SECONDS:
        return "silence"
    return None


def worth_storing(seconds: float) -> bool:
    return seconds >= MESSAGE_MIN_SECONDS


# --- 123: listening to the messages ---------------------------------------------------------------
KEY_REPLAY = "1"
KEY_SAVE = "2"
KEY_DELETE = "3"
KEY_NEXT = "#"
MENU_TIMEOUT_SECONDS = 6  # no key this long after the menu: the next message

ACCESS_SUMMARY = N_("You have %(new)s new and %(saved)s saved messages.")
ACCESS_EMPTY = N_("You have no messages.")
ACCESS_NEW = N_("New message from %(caller)s.")
ACCESS_SAVED = N_("Saved message from %(caller)s.")
ACCESS_HIDDEN_CALLER = N_("a hidden number")
ACCESS_MENU = N_(
    "To listen again, press 1. To save it, press 2. To delete it, press 3. "
    "For the next message, press the pound key."
)
ACCESS_SAVED_DONE = N_("Message saved.")
ACCESS_DELETED_DONE = N_("Message deleted.")
ACCESS_END = N_("No more messages. Goodbye.")


def access_action(key: str | None) -> str:
    """What a key pressed after a message does: replay, save, delete or next (no key, # or any
    other key: next, the message staying as it was)."""
    return {KEY_REPLAY: "replay", KEY_SAVE: "save", KEY_DELETE: "delete"}.get(key or "", "next")


# --- IVR ----------------------------------------------------------------------------------------
IVR_KEY_TIMEOUT_SECONDS = 5  # after the menu's prompt
IVR_TRIES = 3  # a menu is said again this often after a wrong key or none
IVR_DEFAULT_MENU = N_("Please choose a key.")
IVR_WRONG_KEY = N_("That key is not a choice.")
IVR_CLOSED = N_("We are closed. Please call again during our opening hours.")
IVR_UNAVAILABLE = N_("This service cannot take your call now. Goodbye.")


@dataclass(frozen=True)
class Step:
    """What a menu choice leads to, for the media service."""

    kind: str  # "menu" | "transfer" | "voicemail" | "message" | "unavailable"
    value: str | None = None  # the menu id, the number, or None
    message: dict | None = None  # the compiled prompt of a "message"


def ivr_step(destination: dict | None) -> Step:
    """A compiled destination (telephony.aliases.rules) as the media service follows it: lines
    and numbers by transfer, a line's voicemail here, a message played, a submenu; queues are
    not served by this media service yet."""
    if not destination:
        return Step("unavailable")
    action = destination.get("action")
    if action == "submenu" and destination.get("target"):
        return Step("menu", destination["target"])
    if action in ("line", "number") and destination.get("number"):
        return Step("transfer", destination["number"])
    if action == "voicemail" and destination.get("number"):
        return Step("voicemail", destination["number"])
    if action == "message" and destination.get("message"):
        return Step("message", message=destination["message"])
    return Step("unavailable")


# --- Conference -----------------------------------------------------------------------------------
PIN_MAX_DIGITS = 12
PIN_TRIES = 3
PIN_TIMEOUT_SECONDS = 10
# The cues the others in a room hear when someone joins (a rising pair of tones) or leaves (the
# same pair falling): Hz of each tone, each played for CUE_TONE_SECONDS.
JOIN_CUE_HZ = (600.0, 900.0)
LEAVE_CUE_HZ = (900.0, 600.0)
CUE_TONE_SECONDS = 0.16
CONFERENCE_PIN = N_("Please enter the conference code, then press the pound key.")
CONFERENCE_WRONG_PIN = N_("That code is not right.")
CONFERENCE_WELCOME = N_("You are joining the conference.")
CONFERENCE_MUTED = N_("You are joining the conference, with your microphone muted.")
CONFERENCE_REFUSED = N_("Goodbye.")


def pin_matches(expected: str | None, entered: str) -> bool:
    return not expected or entered == expected
