"""Refusals of alias number configurations, each with a stable code naming its rule."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, InvalidInput, NotFound
from voipdesk.core.i18n import N_

# Codes shown inside sentences by their label (never raw).
NEEDS_LABELS = {
    "line": N_("a line of the group"),
    "number": N_("a phone number"),
    "message": N_("a message (a text or a recording)"),
}
PLACE_LABELS = {
    "overflow": N_("When the queue overflows"),
    "closed": N_("Outside opening hours"),
    "no_input": N_("When the caller presses no key"),
}
TYPE_LABELS = {
    "none": N_("No configuration"),
    "redirect": N_("Redirect"),
    "queue": N_("Call queue"),
    "ivr": N_("Interactive voice response (IVR)"),
    "contact_center": N_("Contact center"),
    "conference": N_("Conference"),
}
AUDIO_REASONS = {
    "unreadable": N_("sox could not read it"),
    "silent": N_("it holds no sound"),
    "not-audio": N_("neither WAV nor MP3"),
    "mp3-unavailable": N_("MP3 cannot be converted on this server"),
    "wav-unavailable": N_("WAV cannot be converted on this server"),
}


class ConfigurationTypeChange(Conflict):
    code = "configuration-type-change-needs-confirmation"
    message = (
        "The number %(number)s has a %(current)s configuration: choosing %(new)s deletes it. "
        "Confirm the deletion of the current configuration to go on."
    )
    labels = {"current": TYPE_LABELS, "new": TYPE_LABELS}


class InvalidNumber(InvalidInput):
    code = "invalid-number"
    message = "%(number)s is not a valid phone number."


class NotALineOfTheGroup(InvalidInput):
    code = "not-a-line-of-the-group"
    message = "%(number)s is not a SIP line of this billing group."


class DestinationIsThisNumber(InvalidInput):
    code = "destination-is-this-number"
    message = "Calls to %(number)s cannot be sent back to %(number)s itself."


class RedirectLoop(InvalidInput):
    code = "redirect-loop"
    message = (
        "Redirecting to %(destination)s makes a loop: %(chain)s. Calls would go round without "
        "ever ringing a line."
    )


class QueueWithoutMembers(InvalidInput):
    code = "queue-without-members"
    message = "The call queue %(queue)s has no members: add at least one line or number."


class QueueMemberTwice(InvalidInput):
    code = "queue-member-twice"
    message = "%(number)s is twice in the call queue %(queue)s."


class TooManyMembers(InvalidInput):
    code = "queue-too-many-members"
    message = "A call queue has at most %(maximum)s members."


class IvrKeyUsedTwice(InvalidInput):
    code = "ivr-key-used-twice"
    message = 'The key %(key)s is used twice in the menu "%(menu)s": give each key one choice.'


class IvrMenuWithoutWayOut(InvalidInput):
    code = "ivr-menu-without-way-out"
    message = (
        'The menu "%(menu)s" has no way out: no key of it, or of the menus it leads to, reaches '
        "a line, a queue, a voicemail, a number or a message."
    )


class IvrUnknownMenu(InvalidInput):
    code = "ivr-unknown-menu"
    message = 'The key %(key)s of the menu "%(menu)s" leads to a menu that does not exist.'


class IvrUnknownQueue(InvalidInput):
    code = "ivr-unknown-queue"
    message = 'A choice of the menu "%(menu)s" leads to a queue that does not exist.'


class IvrMenuUnreachable(InvalidInput):
    code = "ivr-menu-unreachable"
    message = (
        'The menu "%(menu)s" cannot be reached from the first menu: lead a key to it or remove it.'
    )


class IvrDuplicateMenu(InvalidInput):
    code = "ivr-duplicate-menu"
    message = 'Two menus are named "%(menu)s" (the same identifier): rename one.'


class IvrDuplicateQueue(InvalidInput):
    code = "ivr-duplicate-queue"
    message = 'Two queues have the identifier "%(queue)s": rename one.'


class IvrNoMenu(InvalidInput):
    code = "ivr-without-menu"
    message = "An IVR needs a first menu: its identifier %(root)s is not among the menus."


class TooManyMenus(InvalidInput):
    code = "ivr-too-many-menus"
    message = "An IVR has at most %(maximum)s menus and %(queues)s queues."


class DestinationIncomplete(InvalidInput):
    code = "destination-incomplete"
    message = "%(where)s: this choice needs %(needs)s."
    labels = {"where": PLACE_LABELS, "needs": NEEDS_LABELS}


class InvalidOpeningHours(InvalidInput):
    code = "invalid-opening-hours"
    message = "Opening hours %(start)s-%(end)s: a period must end after it starts (HH:MM)."


class UnknownTimezone(InvalidInput):
    code = "unknown-timezone"
    message = "%(timezone)s is not a time zone (for example Europe/Paris)."


class UnknownHolidayCountry(InvalidInput):
    code = "unknown-holiday-country"
    message = "Public holidays are known for FR, BE, CH and CA (with QC), not %(country)s."


class TrivialPin(InvalidInput):
    code = "conference-pin-trivial"
    message = "The PIN %(pin)s is too easy to guess (same or consecutive digits): choose another."


class AudioNotFound(InvalidInput):
    code = "audio-not-found"
    message = "No recording %(audio)s was uploaded for this number."


class UnsupportedAudio(InvalidInput):
    code = "unsupported-audio"
    message = (
        "This file is not a WAV or MP3 recording we can read (%(reason)s): send a WAV or MP3 file."
    )
    labels = {"reason": AUDIO_REASONS}


class AudioTooLarge(InvalidInput):
    code = "audio-too-large"
    message = "The file is %(size)s bytes: a recording may be at most %(maximum)s bytes."

    status = 413


class AudioTooLong(InvalidInput):
    code = "audio-too-long"
    message = "The recording lasts %(seconds)s seconds: at most %(maximum)s seconds are allowed."


class SpeechUnavailable(InvalidInput):
    code = "speech-unavailable"
    status = 503
    message = "Text-to-speech is not available on this server: upload a recording instead."


class AgentNotFound(NotFound):
    code = "agent-not-found"
    message = "%(number)s is not an agent of this contact center."


class NotAContactCenter(Conflict):
    code = "not-a-contact-center"
    message = "The number %(number)s is not configured as a contact center."


class RecordingNotFound(NotFound):
    code = "recording-not-found"
    message = "No such recording."


class RecordingOff(Conflict):
    code = "call-recording-off"
    message = 'Call recording ("Enregistrement des appels") is off for %(number)s.'


class ConcurrentChange(Conflict):
    code = "configuration-changed-meanwhile"
    message = (
        "The configuration of %(number)s was changed at the same moment: load it and try again."
    )
