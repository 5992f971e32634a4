"""Tables of alias number configurations, their recordings (prompts), agents and call recordings.

`alias_configuration` has one row per configured number: the customer's settings, and the
compiled JSON the switch reads with one lookup on the unique `number_e164`, with its version
(incremented in the same transaction as every change).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime, new_id


class AliasConfiguration(Base):
    __tablename__ = "alias_configuration"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number_e164: Mapped[str] = mapped_column(String(20), unique=True)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"), index=True)
    service_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))  # rules.TYPES
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    compiled: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(60))


class AliasAudio(Base):
    """A prompt (greeting, menu, message, music) converted to the telephony format: WAV, 8 kHz,
    mono, 16-bit. Uploaded (WAV or MP3) or spoken by text-to-speech."""

    __tablename__ = "alias_audio"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"), index=True)
    number_e164: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(10))  # upload | speech
    filename: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(5))
    sha256: Mapped[str] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AliasAgent(Base):
    """An agent of a contact center (a line member of its queues) and their status."""

    __tablename__ = "alias_agent"
    __table_args__ = (UniqueConstraint("configuration_number", "line_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    configuration_number: Mapped[str] = mapped_column(String(20))
    line_number: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(12))  # rules.AGENT_STATUSES
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AliasRecording(Base):
    """A recorded call of a contact center with recording on (written by the media service)."""

    __tablename__ = "alias_recording"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"), index=True)
    number_e164: Mapped[str] = mapped_column(String(20), index=True)
    caller: Mapped[str] = mapped_column(String(40))
    agent_number: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
