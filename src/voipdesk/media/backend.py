"""voipdesk's data as the media service reads and writes it: through the telephony area's public
rooms, in short transactions, called from worker threads (they block). A database that cannot
be read becomes errors.DataUnavailable (the call is refused with 503 before answering)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.media import audio, errors
from voipdesk.telephony import services as telephony
from voipdesk.telephony.aliases import errors as alias_errors
from voipdesk.telephony.aliases import services as aliases

log = logging.getLogger("voipdesk.media")
SPEECH_CACHE = 256  # prompts kept spoken (most are the same few sentences)


class Backend:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._speech: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        try:
            with self.platform.session() as session:
                yield session
        except (SQLAlchemyError, OSError) as error:  # the database or an audio file
            log.warning("voipdesk data unreadable: %s", error)
            raise errors.DataUnavailable("voipdesk data unavailable") from None

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        try:
            with self.platform.transaction() as session:
                yield session
        except SQLAlchemyError as error:
            log.warning("voipdesk data not written: %s", error)
            raise errors.DataUnavailable("voipdesk data unavailable") from None

    # --- reads before answering ---
    def voicemail_box(self, number: str) -> telephony.VoicemailBox | None:
        with self._reading() as session:
            return telephony.voicemail_box(session, self.platform, number)

    def conference_room(self, number: str) -> aliases.ConferenceRoom | None:
        with self._reading() as session:
            return aliases.conference_room(session, number)

    def menu_configuration(self, number: str) -> aliases.MenuConfiguration | None:
        with self._reading() as session:
            return aliases.menu_configuration(session, number)

    def messages(self, service_id: str) -> list[telephony.StoredMessage]:
        with self._reading() as session:
            return telephony.voicemail_messages(session, service_id)

    def message_pcm(self, service_id: str, message_id: str) -> bytes | None:
        with self._reading() as session:
            data = telephony.voicemail_message_audio(session, self.platform, service_id, message_id)
        if data is None:
            return None
        try:
            return audio.wav_pcm(data)
        except audio.NotTelephonyAudio:
            log.warning("message %s is not telephony audio", message_id)
            return None

    # --- writes during the call ---
    def leave_message(self, number: str, caller: str | None, pcm: bytes) -> str | None:
        with self._writing() as session:
            return telephony.leave_voicemail_message(
                session, self.platform, number, caller, audio.wav_bytes(pcm)
            )

    def save_message(self, service_id: str, message_id: str) -> bool:
        with self._writing() as session:
            return telephony.save_voicemail_message(session, self.platform, service_id, message_id)

    def delete_message(self, box: telephony.VoicemailBox, message_id: str) -> bool:
        with self._writing() as session:
            return telephony.delete_voicemail_message(session, self.platform, box, message_id)

    # --- prompts ---
    def speak(self, text: str, language: str) -> bytes:
        """The sentence spoken (16-bit PCM, 8 kHz), cached; a short tone when text-to-speech is
        not installed, so the call still goes on."""
        key = (language, text)
        with self._lock:
            if key in self._speech:
                self._speech.move_to_end(key)
                return self._speech[key]
        try:
            pcm = audio.wav_pcm(aliases.spoken(text, language))
        except alias_errors.SpeechUnavailable:
            log.warning("text-to-speech unavailable: a tone instead of %r", text)
            pcm = audio.tone(440, 0.5)
        with self._lock:
            self._speech[key] = pcm
            while len(self._speech) > SPEECH_CACHE:
                self._speech.popitem(last=False)
        return pcm
