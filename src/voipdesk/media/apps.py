"""What the media service does on a call, by target: leave a voicemail message, listen to the
messages (123), join a conference room. `prepare` loads everything a target needs before the
call is answered; the applications then run on the answered call."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from voipdesk.core.i18n import gettext
from voipdesk.media import audio, errors, rules
from voipdesk.media.backend import Backend
from voipdesk.media.server import Application, Call
from voipdesk.telephony import services as telephony
from voipdesk.telephony.aliases import services as aliases

log = logging.getLogger("voipdesk.media")


class Applications:
    """The `prepare` of the media server: target -> its application, or a refusal."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def __call__(self, target: rules.Target, caller: str | None) -> Application:
        return await asyncio.to_thread(self.prepare, target, caller)

    def prepare(self, target: rules.Target, caller: str | None) -> Application:
        if target.kind in (rules.KIND_VOICEMAIL, rules.KIND_VOICEMAIL_ACCESS):
            box = self.backend.voicemail_box(target.number)
            if box is None:
                raise errors.TargetNotFound("no line with this number")
            if target.kind == rules.KIND_VOICEMAIL:
                return VoicemailDeposit(self.backend, box, caller, self.greeting(box))
            messages = self.backend.messages(box.service_id)
            return VoicemailAccess(self.backend, box, messages, self.summary(box, messages))
        if target.kind == rules.KIND_CONFERENCE:
            room = self.backend.conference_room(target.number)
            if room is None:
                raise errors.TargetNotFound("no conference room on this number")
            return Conference(self.backend, room, target)
        raise errors.TargetNotFound(f"{target.kind} is not served by this media service")

    def greeting(self, box: telephony.VoicemailBox) -> bytes:
        if not box.enabled:
            return self.backend.speak(gettext(box.language, rules.VOICEMAIL_OFF), box.language)
        if box.greeting == "recording" and box.greeting_audio:
            try:
                return audio.wav_pcm(box.greeting_audio)
            except audio.NotTelephonyAudio:
                log.warning("greeting of %s unreadable: the standard one instead", box.number)
        text = rules.greeting_text(box.language, box.greeting, box.number, box.greeting_name)
        return self.backend.speak(text, box.language)

    def summary(
        self, box: telephony.VoicemailBox, messages: list[telephony.StoredMessage]
    ) -> bytes:
        if not messages:
            text = gettext(box.language, rules.ACCESS_EMPTY)
        else:
            new = sum(1 for m in messages if not m.saved)
            text = gettext(box.language, rules.ACCESS_SUMMARY, new=new, saved=len(messages) - new)
        return self.backend.speak(text, box.language)


@dataclass
class VoicemailDeposit:
    backend: Backend
    box: telephony.VoicemailBox
    caller: str | None
    greeting: bytes

    async def run(self, call: Call) -> None:
        await call.play(self.greeting)
        if not self.box.enabled:
            return
        await call.play(audio.BEEP)
        pcm, why = await call.record()
        seconds = len(pcm) / (rules.SAMPLE_RATE * 2)
        if not rules.worth_storing(seconds):
            log.info("voicemail %s: %.1f s, not kept", self.box.number, seconds)
            return
        stored = await asyncio.to_thread(
            self.backend.leave_message, self.box.number, self.caller, pcm
        )
        log.info(
            "voicemail %s: message %s from %s, %.1f s (%s)",
            self.box.number,
            stored,
            self.caller,
            seconds,
            why,
        )


@dataclass
class VoicemailAccess:
    backend: Backend
    box: telephony.VoicemailBox
    messages: list[telephony.StoredMessage]
    summary: bytes

    def say(self, text: str, **values: object) -> bytes:
        return self.backend.speak(gettext(self.box.language, text, **values), self.box.language)

    async def speak(
        self, call: Call, text: str, interrupt: bool = False, **values: object
    ) -> str | None:
        pcm = await asyncio.to_thread(self.say, text, **values)
        return await call.play(pcm, interrupt=interrupt)

    async def run(self, call: Call) -> None:
        language = self.box.language
        await call.play(self.summary)
        for message in self.messages:
            caller = (
                rules.spoken_number(message.caller)
                if message.caller
                else gettext(language, rules.ACCESS_HIDDEN_CALLER)
            )
            intro = rules.ACCESS_SAVED if message.saved else rules.ACCESS_NEW
            pcm = await asyncio.to_thread(self.backend.message_pcm, self.box.service_id, message.id)
            if pcm is None:
                continue  # deleted meanwhile (in the customer space)
            while True:
                await self.speak(call, intro, caller=caller)
                key = await call.play(pcm, interrupt=True)
                if key is None:
                    key = await self.speak(call, rules.ACCESS_MENU, interrupt=True)
                if key is None:
                    key = await call.key(rules.MENU_TIMEOUT_SECONDS)
                else:
                    key = await call.key(0)
                action = rules.access_action(key)
                if action != "replay":
                    break
            if action == "save":
                await asyncio.to_thread(self.backend.save_message, self.box.service_id, message.id)
                await self.speak(call, rules.ACCESS_SAVED_DONE)
            elif action == "delete":
                await asyncio.to_thread(self.backend.delete_message, self.box, message.id)
                await self.speak(call, rules.ACCESS_DELETED_DONE)
        if self.messages:
            await self.speak(call, rules.ACCESS_END)


@dataclass
class Conference:
    backend: Backend
    room: aliases.ConferenceRoom
    target: rules.Target

    async def say(self, call: Call, text: str) -> None:
        pcm = await asyncio.to_thread(
            self.backend.speak, gettext(self.room.language, text), self.room.language
        )
        await call.play(pcm, interrupt=text == rules.CONFERENCE_PIN)

    async def run(self, call: Call) -> None:
        if self.room.pin:
            for _attempt in range(rules.PIN_TRIES):
                await self.say(call, rules.CONFERENCE_PIN)
                entered = await call.keys(rules.PIN_MAX_DIGITS, rules.PIN_TIMEOUT_SECONDS)
                if rules.pin_matches(self.room.pin, entered):
                    break
                await self.say(call, rules.CONFERENCE_WRONG_PIN)
            else:
                await self.say(call, rules.CONFERENCE_REFUSED)
                return
        muted = self.room.muted_on_entry
        await self.say(call, rules.CONFERENCE_MUTED if muted else rules.CONFERENCE_WELCOME)
        call.muted = muted
        call.server.room(self.target.name).join(call)
        await call.until_hangup()
