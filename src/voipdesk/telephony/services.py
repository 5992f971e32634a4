"""What other areas ask the telephony area to do: plain functions, no ORM objects crossing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony import rules
from voipdesk.telephony.actions import routing, voicemail_audio
from voipdesk.telephony.actions.star_codes import StarCodeOutcome
from voipdesk.telephony.actions.star_codes import apply_star_code as _apply_star_code
from voipdesk.telephony.actions.voicemail import (
    check_voicemail_pin,
    message_waiting_changed,
    waiting_counts,
)
from voipdesk.telephony.actions.voicemail import store_message as _store_message
from voipdesk.telephony.models import SpendingCapState

__all__ = [
    "MessageWaiting",
    "StarCodeOutcome",
    "StoredMessage",
    "VoicemailBox",
    "apply_star_code",
    "check_voicemail_pin",
    "delete_voicemail_message",
    "leave_voicemail_message",
    "message_waiting",
    "save_voicemail_message",
    "set_spending_cap_reached",
    "spending_cap_reached",
    "voicemail_box",
    "voicemail_message_audio",
    "voicemail_messages",
]


def set_spending_cap_reached(
    session: Session, platform: Platform, billing_group_id: str, reached: bool
) -> bool:
    """The consumption area says whether the group's spending cap is reached: the routing records
    of the group's lines are rebuilt at once (in the caller's transaction) when it changes.
    Returns whether it changed."""
    row = session.get(SpendingCapState, billing_group_id, with_for_update=True)
    if row is None:
        if not reached:
            return False
        session.add(
            SpendingCapState(
                billing_group_id=billing_group_id, reached=True, updated_at=platform.now()
            )
        )
    elif row.reached == reached:
        return False
    else:
        row.reached = reached
        row.updated_at = platform.now()
    session.flush()
    ids = [f.service_id for f in subscriptions.group_service_facts(session, billing_group_id)]
    routing.rebuild(session, platform, ids)
    return True


def spending_cap_reached(session: Session, billing_group_id: str) -> bool:
    row = session.get(SpendingCapState, billing_group_id)
    return bool(row is not None and row.reached)


def apply_star_code(
    session: Session, platform: Platform, sip_username: str, dialled: str
) -> StarCodeOutcome:
    """A star code dialled by a line's phone (the switch asks), through the pages' use case."""
    return _apply_star_code(session, platform, sip_username, dialled)


# --- The media service's voicemail ---------------------------------------------------------------
@dataclass(frozen=True)
class VoicemailBox:
    """What the media service needs to answer a call to a line's voicemail (or the line's 123)."""

    service_id: str
    billing_group_id: str
    number: str
    enabled: bool
    greeting: str  # rules.GREETING_*
    greeting_name: str | None
    greeting_audio: bytes | None  # telephony WAV when the greeting is the uploaded recording
    pin_set: bool
    language: str  # the owner's


@dataclass(frozen=True)
class StoredMessage:
    id: str
    caller: str | None
    received_at: datetime
    duration_seconds: int
    saved: bool  # listened to and kept (read)


def voicemail_box(session: Session, platform: Platform, number: str) -> VoicemailBox | None:
    """The voicemail of the live line with this E.164 number; None when there is no such line."""
    from voipdesk.accounts.models import Account
    from voipdesk.subscriptions import queries as subscriptions
    from voipdesk.telephony.models import VoicemailSettings

    line = subscriptions.live_line_by_number(session, number)
    if line is None:
        return None
    group = subscriptions.group_by_id(session, line.billing_group_id)
    account = session.get(Account, group.account_id) if group is not None else None
    row = session.get(VoicemailSettings, line.id)
    return VoicemailBox(
        service_id=line.id,
        billing_group_id=line.billing_group_id,
        number=line.number,
        enabled=row.enabled if row else True,
        greeting=row.greeting if row else rules.GREETING_STANDARD,
        greeting_name=row.greeting_name if row else None,
        greeting_audio=voicemail_audio.greeting_audio(platform, row),
        pin_set=bool(row and row.pin_hash),
        language=account.language if account is not None else "fr",
    )


def leave_voicemail_message(
    session: Session, platform: Platform, number: str, caller: str | None, wav: bytes
) -> str | None:
    """A message left on the line's voicemail (telephony WAV): stored for the customer space,
    e-mailed to the line's owner as the voicemail's settings say (with or without the audio).
    None when it was e-mailed with its audio and the settings say to delete it then."""
    from voipdesk.accounts.emails import send_service_email
    from voipdesk.accounts.models import Account
    from voipdesk.subscriptions import queries as subscriptions
    from voipdesk.telephony.models import VoicemailMessage, VoicemailSettings

    line = subscriptions.live_line_by_number(session, number)
    if line is None:
        return None
    message_id = _store_message(session, platform, line.id, caller, wav)
    row = session.get(VoicemailSettings, line.id)
    notification = row.email_notification if row else rules.EMAIL_WITH_AUDIO
    group = subscriptions.group_by_id(session, line.billing_group_id)
    account = session.get(Account, group.account_id) if group is not None else None
    if notification == rules.EMAIL_OFF or account is None:
        return message_id
    message = session.get(VoicemailMessage, message_id)
    assert message is not None
    with_audio = notification == rules.EMAIL_WITH_AUDIO
    stamp = message.received_at.strftime("%Y%m%d-%H%M%S")
    send_service_email(
        session,
        platform,
        account=account,
        kind="voicemail_message",
        template="telephony/voicemail_message",
        context={
            "number": line.number,
            "caller": caller,
            "received_at": message.received_at,
            "seconds": message.duration_seconds,
            "with_audio": with_audio,
            "url": (
                f"{platform.settings.base_url.rstrip('/')}/telephony/{line.billing_group_id}"
                f"/lines/{quote(line.number)}/voicemail"
            ),
        },
        attachments=[(f"message-{stamp}.wav", "audio/wav", wav)] if with_audio else [],
    )
    if with_audio and row is not None and row.delete_after_email:
        voicemail_audio.delete_message(session, platform, message)  # its summary is queued
        return None
    return message_id


def voicemail_messages(session: Session, service_id: str) -> list[StoredMessage]:
    """The line's messages as 123 plays them: new ones first, then the saved, oldest first."""
    from voipdesk.telephony.models import VoicemailMessage

    rows = session.execute(
        select(
            VoicemailMessage.id,
            VoicemailMessage.caller,
            VoicemailMessage.received_at,
            VoicemailMessage.duration_seconds,
            VoicemailMessage.read_at,
        )
        .where(VoicemailMessage.service_id == service_id)
        .order_by(VoicemailMessage.received_at, VoicemailMessage.id)
    ).all()
    found = [StoredMessage(r[0], r[1], r[2], r[3], r[4] is not None) for r in rows]
    return [m for m in found if not m.saved] + [m for m in found if m.saved]


def voicemail_message_audio(
    session: Session, platform: Platform, service_id: str, message_id: str
) -> bytes | None:
    from voipdesk.telephony.models import VoicemailMessage

    message = session.get(VoicemailMessage, message_id)
    if message is None or message.service_id != service_id:
        return None
    return voicemail_audio.message_audio(platform, message)


def save_voicemail_message(
    session: Session, platform: Platform, service_id: str, message_id: str
) -> bool:
    """Marks the message listened to (saved); False when it is no longer there."""
    from voipdesk.telephony.models import VoicemailMessage

    message = session.get(VoicemailMessage, message_id, with_for_update=True)
    if message is None or message.service_id != service_id:
        return False
    message.read_at = message.read_at or platform.now()
    message_waiting_changed(session, platform, service_id)
    return True


def delete_voicemail_message(
    session: Session, platform: Platform, box: VoicemailBox, message_id: str
) -> bool:
    from voipdesk.subscriptions import services as subscriptions
    from voipdesk.telephony.models import VoicemailMessage

    message = session.get(VoicemailMessage, message_id, with_for_update=True)
    if message is None or message.service_id != box.service_id:
        return False
    voicemail_audio.delete_message(session, platform, message)
    message_waiting_changed(session, platform, box.service_id)
    subscriptions.record_history(
        session,
        platform,
        box.billing_group_id,
        box.service_id,
        "line (123)",
        f"voicemail message {message_id} deleted",
    )
    return True


@dataclass(frozen=True)
class MessageWaiting:
    """What a line's phone is told of its voicemail (the switch area sends it)."""

    sip_username: str
    new: int
    saved: int


def message_waiting(session: Session, service_id: str) -> MessageWaiting | None:
    """None when the line has no SIP account (nothing to tell)."""
    facts = subscriptions.service_facts(session, [service_id])
    if not facts or not facts[0].sip_username:
        return None
    new, saved = waiting_counts(session, service_id)
    return MessageWaiting(facts[0].sip_username, new, saved)
