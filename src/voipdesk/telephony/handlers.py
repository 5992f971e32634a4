"""Outbox handlers, event consumers and registry hooks of the telephony area (all idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import handler
from voipdesk.subscriptions.services import register_services_listener
from voipdesk.telephony.actions import options, routing, voicemail, voicemail_audio

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@register_services_listener
def rebuild_routing_records(session: Session, platform: Platform, service_ids: list[str]) -> None:
    """Subscriptions or billing changed services (delivery, suspension, termination, conversion,
    offer or limit change): their routing records are rebuilt in the same transaction."""
    routing.rebuild(session, platform, service_ids)


@handler(options.OPTION_PAID)
def option_paid(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """The purchase order of an option is paid: the line has it (a repeat adds nothing)."""
    options.apply_paid_option(session, platform, payload)


@periodic("telephony.voicemail_retention", every=timedelta(hours=1))
def purge_expired_voicemail(platform: Platform) -> None:
    """Voicemail messages past the retention period are deleted with their audio."""
    with platform.transaction() as session:
        voicemail.purge_expired_messages(session, platform)


@periodic("telephony.voicemail_audio_to_files", every=timedelta(minutes=10))
def move_voicemail_audio_to_files(platform: Platform) -> None:
    """Audio stored in the database before files were used moves to files, a batch at a time."""
    while voicemail_audio.move_to_files(platform):
        pass


@periodic("telephony.voicemail_orphan_files", every=timedelta(hours=6))
def remove_orphan_voicemail_files(platform: Platform) -> None:
    """Files left by a crash before the commit that would have named them."""
    voicemail_audio.remove_orphans(platform)
