"""Reading alias number configurations: the switch's lookup, the pages' and the API's views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from voipdesk.telephony.aliases import actions, errors
from voipdesk.telephony.aliases.models import AliasAudio, AliasConfiguration, AliasRecording


@dataclass(frozen=True)
class CompiledConfiguration:
    number: str
    version: int
    compiled: dict[str, Any]


# Built once: the switch asks for every call, so the statement is not rebuilt (nor compiled
# again) per call, and it runs on the session's connection, without the ORM's execution path.
_COMPILED = select(
    AliasConfiguration.number_e164, AliasConfiguration.version, AliasConfiguration.compiled
).where(AliasConfiguration.number_e164 == bindparam("number"))


def compiled_configuration(session: Session, number: str) -> CompiledConfiguration | None:
    """What the switch needs for a call to `number` (E.164): one lookup on a unique index.
    None when the number has never been configured (no configuration)."""
    row = session.connection().execute(_COMPILED, {"number": number}).first()
    if row is None:
        return None
    return CompiledConfiguration(row[0], row[1], dict(row[2] or {}))


def configuration(
    session: Session, account_id: str, group_id: str, number: str
) -> actions.ConfigurationView:
    alias = actions.alias_of(session, account_id, group_id, number)
    row = session.scalar(
        select(AliasConfiguration).where(AliasConfiguration.number_e164 == alias.number)
    )
    return actions.view_of(row, alias, actions._agents(session, alias.number))


def group_configuration_types(session: Session, group_id: str) -> dict[str, str]:
    """Number -> configuration type, for the group's configured numbers."""
    return dict(
        session.execute(
            select(AliasConfiguration.number_e164, AliasConfiguration.kind).where(
                AliasConfiguration.billing_group_id == group_id
            )
        ).all()
    )


@dataclass(frozen=True)
class RecordingView:
    id: str
    number: str
    caller: str
    agent_number: str | None
    started_at: datetime
    duration_seconds: int
    content_type: str
    size: int


def recordings(
    session: Session, account_id: str, group_id: str, number: str
) -> list[RecordingView]:
    alias = actions.alias_of(session, account_id, group_id, number)
    rows = session.execute(
        select(
            AliasRecording.id,
            AliasRecording.number_e164,
            AliasRecording.caller,
            AliasRecording.agent_number,
            AliasRecording.started_at,
            AliasRecording.duration_seconds,
            AliasRecording.content_type,
            AliasRecording.size,
        ).where(AliasRecording.number_e164 == alias.number)
    ).all()
    return [RecordingView(*row) for row in rows]


def recording_content(
    session: Session, account_id: str, group_id: str, number: str, recording_id: str
) -> tuple[str, bytes]:
    alias = actions.alias_of(session, account_id, group_id, number)
    row = session.get(AliasRecording, recording_id)
    if row is None or row.number_e164 != alias.number:
        raise errors.RecordingNotFound()
    return row.content_type, row.content


def audio_list(
    session: Session, account_id: str, group_id: str, number: str
) -> list[actions.AudioView]:
    alias = actions.alias_of(session, account_id, group_id, number)
    rows = session.scalars(
        select(AliasAudio)
        .where(AliasAudio.number_e164 == alias.number)
        .order_by(AliasAudio.created_at, AliasAudio.id)
    )
    return [actions.audio_view(row) for row in rows]


def audio_content(
    session: Session, account_id: str, group_id: str, number: str, audio_id: str
) -> bytes:
    alias = actions.alias_of(session, account_id, group_id, number)
    row = session.get(AliasAudio, audio_id)
    if row is None or row.number_e164 != alias.number:
        raise errors.AudioNotFound(audio=audio_id, status=404)
    return row.content
