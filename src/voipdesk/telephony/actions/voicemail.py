"""Voicemail of a line: its settings (on/off, greeting, PIN, e-mail notification) and its
messages (listed, listened to, marked read, deleted). The messages are written by the media
service (`store_message`); here is their store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from voipdesk.core.outbox import enqueue
from voipdesk.core.pagination import PageParams, paginate
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.subscriptions.services import ServiceFacts
from voipdesk.telephony import audio, errors, rules
from voipdesk.telephony.actions import routing, voicemail_audio
from voipdesk.telephony.actions.lines import actor_of_account, forwards_to_voicemail, line
from voipdesk.telephony.models import VoicemailMessage, VoicemailSettings
from voipdesk.telephony.rules import Refusal

_hasher = PasswordHasher()


@dataclass(frozen=True)
class VoicemailView:
    enabled: bool
    greeting: str
    greeting_name: str | None
    has_recording: bool
    pin_set: bool
    email_notification: str
    delete_after_email: bool
    unread: int
    total: int


@dataclass(frozen=True)
class MessageView:
    id: str
    caller: str | None
    received_at: datetime
    duration_seconds: int
    read: bool
    content_type: str


def _row(session: Session, facts: ServiceFacts, lock: bool = True) -> VoicemailSettings:
    row = session.get(VoicemailSettings, facts.service_id, with_for_update=lock)
    if row is None:
        row = VoicemailSettings(
            service_id=facts.service_id,
            enabled=True,
            greeting=rules.GREETING_STANDARD,
            email_notification=rules.EMAIL_WITH_AUDIO,
            delete_after_email=False,
        )
        session.add(row)
    return row


def _view(session: Session, facts: ServiceFacts) -> VoicemailView:
    row = session.get(VoicemailSettings, facts.service_id)
    messages = list(
        session.scalars(
            select(VoicemailMessage.read_at).where(VoicemailMessage.service_id == facts.service_id)
        )
    )
    return VoicemailView(
        enabled=row.enabled if row else True,
        greeting=row.greeting if row else rules.GREETING_STANDARD,
        greeting_name=row.greeting_name if row else None,
        has_recording=voicemail_audio.has_greeting(row),
        pin_set=bool(row and row.pin_hash),
        email_notification=row.email_notification if row else rules.EMAIL_WITH_AUDIO,
        delete_after_email=row.delete_after_email if row else False,
        unread=sum(1 for read in messages if read is None),
        total=len(messages),
    )


def get_voicemail(session: Session, account_id: str, group_id: str, number: str) -> VoicemailView:
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    return _view(session, facts)


def _saved(
    session: Session, platform: Platform, facts: ServiceFacts, row: Any, what: str, actor: str
) -> None:
    row.updated_at = platform.now()
    session.flush()
    subscriptions.record_history(
        session, platform, facts.billing_group_id, facts.service_id, actor, what
    )
    routing.rebuild(session, platform, [facts.service_id])


def update_voicemail(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    changes: dict[str, Any],
) -> VoicemailView:
    """Changes some of: enabled, greeting, greeting_name, pin, email_notification,
    delete_after_email. All checked first; nothing is stored on a refusal."""
    facts = line(session, account_id, group_id, number)
    row = _row(session, facts)
    enabled = changes.get("enabled", row.enabled)
    greeting = changes.get("greeting", row.greeting)
    name = changes.get("greeting_name", row.greeting_name)
    notification = changes.get("email_notification", row.email_notification)
    if greeting not in rules.GREETINGS:
        raise errors.InvalidChoice(value=greeting, fields={"greeting": "Refused."})
    if notification not in rules.EMAIL_NOTIFICATIONS:
        raise errors.InvalidChoice(value=notification, fields={"email_notification": "Refused."})
    if greeting == rules.GREETING_NAME and not (name or "").strip():
        raise errors.GreetingNameMissing(fields={"greeting_name": "Required."})
    if greeting == rules.GREETING_RECORDING and not voicemail_audio.has_greeting(row):
        raise errors.GreetingMissing(fields={"greeting_file": "Required."})
    if not enabled and row.enabled and forwards_to_voicemail(session, facts.service_id):
        raise errors.VoicemailUsedByForward()
    pin_hash = row.pin_hash
    if changes.get("pin"):
        try:
            pin = rules.check_pin(str(changes["pin"]), facts.number or "")
        except Refusal as refusal:
            raise errors.from_refusal(refusal) from None
        pin_hash = _hasher.hash(pin)
    what = []
    for name_, value in (
        ("enabled", bool(enabled)),
        ("greeting", greeting),
        ("greeting_name", (name or "").strip() or None),
        ("email_notification", notification),
        ("delete_after_email", bool(changes.get("delete_after_email", row.delete_after_email))),
    ):
        if getattr(row, name_) != value:
            setattr(row, name_, value)
            what.append(f"{name_}={value}")
    if pin_hash != row.pin_hash:
        row.pin_hash = pin_hash
        what.append("new PIN")
    if what:
        _saved(
            session,
            platform,
            facts,
            row,
            "voicemail: " + ", ".join(what),
            actor_of_account(account_id),
        )
    return _view(session, facts)


def upload_greeting(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    data: bytes,
    content_type: str,
    filename: str = "",
) -> VoicemailView:
    """An uploaded WAV or MP3, converted to the telephony format, becomes the greeting."""
    facts = line(session, account_id, group_id, number)
    try:
        kind = rules.greeting_format(content_type, filename, len(data))
    except Refusal as refusal:
        raise errors.from_refusal(refusal) from None
    try:
        converted, seconds = audio.to_telephony_wav(data, kind)
    except audio.AudioError:
        raise errors.GreetingUnreadable(fields={"greeting_file": "Not audio."}) from None
    if seconds > rules.GREETING_MAX_SECONDS:
        raise errors.GreetingTooLong(maximum=rules.GREETING_MAX_SECONDS)
    row = _row(session, facts)
    voicemail_audio.replace_greeting(session, platform, row, converted)
    row.greeting = rules.GREETING_RECORDING
    _saved(
        session,
        platform,
        facts,
        row,
        f"voicemail: greeting recording ({seconds:.1f} s)",
        actor_of_account(account_id),
    )
    return _view(session, facts)


def greeting_audio(
    session: Session, platform: Platform, account_id: str, group_id: str, number: str
) -> bytes | None:
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    row = session.get(VoicemailSettings, facts.service_id)
    return voicemail_audio.greeting_audio(platform, row)


def check_voicemail_pin(session: Session, service_id: str, pin: str) -> bool:
    """For the media service: does this PIN open the voicemail?"""
    row = session.get(VoicemailSettings, service_id)
    if row is None or not row.pin_hash:
        return False
    try:
        return _hasher.verify(row.pin_hash, pin)
    except VerificationError:
        return False


# --- Messages ------------------------------------------------------------------------------------
def _message_view(message: VoicemailMessage) -> MessageView:
    return MessageView(
        id=message.id,
        caller=message.caller,
        received_at=message.received_at,
        duration_seconds=message.duration_seconds,
        read=message.read_at is not None,
        content_type=message.content_type,
    )


def list_messages(
    session: Session, account_id: str, group_id: str, number: str, page: PageParams
) -> tuple[list[MessageView], str | None]:
    """Newest first."""
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    rows = list(
        session.scalars(
            select(VoicemailMessage)
            .options(defer(VoicemailMessage.audio))  # the list never carries the recordings
            .where(VoicemailMessage.service_id == facts.service_id)
            .order_by(VoicemailMessage.received_at.desc(), VoicemailMessage.id.desc())
        )
    )
    shown, next_cursor = paginate(
        rows, key=lambda m: (m.received_at.isoformat(), m.id), page=page, descending=True
    )
    return [_message_view(m) for m in shown], next_cursor


def _message(
    session: Session, account_id: str, group_id: str, number: str, message_id: str, lock: bool
) -> tuple[ServiceFacts, VoicemailMessage]:
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=lock)
    message = session.get(VoicemailMessage, message_id, with_for_update=lock)
    if message is None or message.service_id != facts.service_id:
        raise errors.MessageNotFound()
    return facts, message


def get_message(
    session: Session, account_id: str, group_id: str, number: str, message_id: str
) -> MessageView:
    return _message_view(_message(session, account_id, group_id, number, message_id, False)[1])


def message_audio(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    message_id: str,
) -> tuple[bytes, str]:
    message = _message(session, account_id, group_id, number, message_id, False)[1]
    return voicemail_audio.message_audio(platform, message), message.content_type


def mark_message(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    message_id: str,
    read: bool,
) -> MessageView:
    facts, message = _message(session, account_id, group_id, number, message_id, True)
    message.read_at = (message.read_at or platform.now()) if read else None
    message_waiting_changed(session, platform, facts.service_id)
    return _message_view(message)


def delete_message(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    message_id: str,
) -> None:
    facts, message = _message(session, account_id, group_id, number, message_id, True)
    voicemail_audio.delete_message(session, platform, message)
    message_waiting_changed(session, platform, facts.service_id)
    subscriptions.record_history(
        session,
        platform,
        facts.billing_group_id,
        facts.service_id,
        actor_of_account(account_id),
        f"voicemail message {message_id} deleted",
    )


def store_message(
    session: Session,
    platform: Platform,
    service_id: str,
    caller: str | None,
    wav: bytes,
) -> str:
    """A message left on the line's voicemail (by the media service), as telephony WAV."""
    message = VoicemailMessage(
        service_id=service_id,
        caller=caller,
        received_at=platform.now(),
        duration_seconds=round(audio.wav_duration(wav)),
        audio_file=voicemail_audio.store(platform, wav),
        content_type="audio/wav",
    )
    session.add(message)
    session.flush()
    message_waiting_changed(session, platform, service_id)
    return message.id


def purge_expired_messages(session: Session, platform: Platform) -> int:
    """Deletes the messages past the retention period of the settings; returns how many."""
    cutoff = rules.voicemail_retention_cutoff(
        platform.now(), platform.settings.voicemail_retention_days
    )
    if cutoff is None:
        return 0
    expired = session.scalars(
        select(VoicemailMessage)
        .options(defer(VoicemailMessage.audio))
        .where(VoicemailMessage.received_at < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    for message in expired:
        voicemail_audio.delete_message(session, platform, message)
    for service_id in {message.service_id for message in expired}:
        message_waiting_changed(session, platform, service_id)
    return len(expired)


def message_waiting_changed(session: Session, platform: Platform, service_id: str) -> None:
    """Queues the line's message-waiting indication; it says the counts at the time it is sent,
    so one queued per change is enough and a late one is never stale."""
    enqueue(
        session,
        rules.MESSAGE_WAITING_TOPIC,
        {"service_id": service_id},
        platform.now(),
        ordering_key=f"mwi:{service_id}",
    )


def waiting_counts(session: Session, service_id: str) -> tuple[int, int]:
    """(new, saved) messages of the line's voicemail."""
    read = list(
        session.scalars(
            select(VoicemailMessage.read_at).where(VoicemailMessage.service_id == service_id)
        )
    )
    new = sum(1 for at in read if at is None)
    return new, len(read) - new
