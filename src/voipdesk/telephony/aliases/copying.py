"""Ported numbers take the configuration of an alias number of their group (a portability's
destination): its settings and their own copy of each of its recordings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscriptions
from voipdesk.subscriptions import services as subscription_services
from voipdesk.telephony.aliases import rules
from voipdesk.telephony.aliases.actions import ALIAS, _row, _write
from voipdesk.telephony.aliases.models import AliasAudio


def _with_audio(value: Any, renamed: Mapping[str, str]) -> Any:
    """`value` (settings) with every `*audio_id` replaced by its copy's id."""
    if isinstance(value, dict):
        return {
            k: renamed.get(v, v)
            if k.endswith("audio_id") and isinstance(v, str)
            else _with_audio(v, renamed)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_with_audio(v, renamed) for v in value]
    return value


def copy_configuration(
    session: Session,
    platform: Platform,
    group_id: str,
    source_number: str,
    numbers: list[str],
    actor: str,
) -> int:
    """Ported numbers take the configuration of an alias number of their group: its settings
    and its own copy of each recording (the media service reads a number's recordings), unless
    they already have a configuration. Idempotent; returns how many were set."""
    source = _row(session, source_number)
    if source is None or source.kind == rules.NONE:
        return 0  # deleted since the request: the numbers wait for a configuration
    aliases = {s.number: s for s in subscriptions.group_services(session, group_id, ALIAS)}
    recordings = list(
        session.scalars(select(AliasAudio).where(AliasAudio.number_e164 == source_number))
    )
    done = 0
    for number in numbers:
        alias = aliases.get(number)
        if alias is None or _row(session, number, lock=True) is not None:
            continue
        renamed: dict[str, str] = {}
        for recording in recordings:
            copy = AliasAudio(
                **{
                    column.key: getattr(recording, column.key)
                    for column in AliasAudio.__table__.columns
                    if column.key != "id"
                }
            )
            copy.number_e164 = number
            session.add(copy)
            session.flush()
            renamed[recording.id] = copy.id
        settings = _with_audio(dict(source.settings or {}), renamed)
        row = _write(session, platform, alias, None, source.kind, settings, actor)
        subscription_services.record_history(
            session,
            platform,
            group_id,
            alias.id,
            actor,
            f"alias configuration {source.kind} copied from {source_number}"
            f" (ported, version {row.version})",
        )
        done += 1
    return done
