"""What the media service does on a call, by target: leave a voicemail message, listen to the
messages (123), join a conference room. `prepare` loads everything a target needs before the
call is answered; the applications then run on the answered call."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from voipdesk.core.i18n import gettext
from voipdesk.media import audio, errors, rules, sip
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
        if target.kind == rules.KIND_IVR:
            menus = self.backend.menu_configuration(target.number)
            if menus is None:
                raise errors.TargetNotFound("no IVR on this number")
            return Ivr(self, menus, target)
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


class Ivr:
    """An alias configured as an IVR: opening hours, greeting, menus read by key within a
    timeout (said again on a wrong key or none, up to a limit), then the choice: a submenu, a
    transfer to a line or number (REFER: the caller's phone calls it), a line's voicemail (taken
    here), or a message."""

    def __init__(
        self, applications: Applications, menus: aliases.MenuConfiguration, target: rules.Target
    ) -> None:
        self.applications = applications
        self.backend = applications.backend
        self.menus = menus
        self.target = target
        self.language = menus.language

    def prompt_pcm(self, prompt: dict | None, fallback: str | None = None) -> bytes | None:
        if prompt and prompt.get("audio_id") in self.menus.recordings:
            try:
                return audio.wav_pcm(self.menus.recordings[prompt["audio_id"]])
            except audio.NotTelephonyAudio:
                log.warning("IVR %s: recording %s unreadable", self.target.number, prompt)
        if prompt and prompt.get("text"):
            return self.backend.speak(prompt["text"], prompt.get("language") or self.language)
        if fallback:
            return self.backend.speak(gettext(self.language, fallback), self.language)
        return None

    async def play_prompt(
        self, call: Call, prompt: dict | None, fallback: str | None = None, interrupt: bool = True
    ) -> None:
        pcm = await asyncio.to_thread(self.prompt_pcm, prompt, fallback)
        if pcm:
            await call.play(pcm, interrupt=interrupt)

    async def run(self, call: Call) -> None:
        compiled = self.menus.compiled
        if not aliases.is_open(compiled.get("opening_hours"), self.backend.platform.now()):
            closed = compiled.get("closed")
            if closed:
                await self.follow(call, rules.ivr_step(closed))
            else:
                await self.play_prompt(call, None, rules.IVR_CLOSED, interrupt=False)
            return
        await self.play_prompt(call, compiled.get("greeting"))
        menu_id = compiled.get("root") or "main"
        tries = 0
        while True:
            menu = (compiled.get("menus") or {}).get(menu_id) or {}
            await self.play_prompt(call, menu.get("prompt"), rules.IVR_DEFAULT_MENU)
            key = await call.key(rules.IVR_KEY_TIMEOUT_SECONDS)
            choices = menu.get("keys") or {}
            if key is None or key not in choices:
                tries += 1
                if tries >= rules.IVR_TRIES:
                    await self.follow(call, rules.ivr_step(compiled.get("no_input")))
                    return
                if key is not None:
                    await self.play_prompt(call, None, rules.IVR_WRONG_KEY, interrupt=False)
                continue
            step = rules.ivr_step(choices[key])
            if step.kind == "menu" and step.value:
                menu_id, tries = step.value, 0
                continue
            await self.follow(call, step)
            return

    async def follow(self, call: Call, step: rules.Step) -> None:
        if step.kind == "transfer" and step.value:
            domain = sip.uri_host_port(sip.uri_of(call.invite["To"]))[0]
            if await call.server.transfer(call, f"sip:{step.value}@{domain}"):
                log.info("IVR %s: transferred to %s", self.target.number, step.value)
                return
            log.info("IVR %s: transfer to %s refused by the phone", self.target.number, step.value)
        elif step.kind == "voicemail" and step.value:
            deposit = await asyncio.to_thread(
                self.applications.prepare,
                rules.Target(rules.KIND_VOICEMAIL, step.value),
                call.caller,
            )
            await deposit.run(call)
            return
        elif step.kind == "message":
            await self.play_prompt(call, step.message, rules.IVR_UNAVAILABLE, interrupt=False)
            return
        await self.play_prompt(call, None, rules.IVR_UNAVAILABLE, interrupt=False)
