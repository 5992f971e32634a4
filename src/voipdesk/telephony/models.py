"""Telephony tables: the settings of each line, its voicemail and messages, and the compiled
routing record the switch reads per call (one indexed lookup)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime, new_id


class LineSettings(Base):
    """Calls management of one line (a `service` of kind sip_line or sip_trunk). A line without a
    row has the defaults (`rules.LineSettingsData()`)."""

    __tablename__ = "telephony_line_settings"

    service_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    billing_group_id: Mapped[str] = mapped_column(String(32), index=True)
    # condition -> {"target": external|line|voicemail, "number": E.164 or None, "delay": seconds}
    forwards: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    do_not_disturb: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_id: Mapped[str] = mapped_column(String(10), default="line")  # rules.CALLER_ID_*
    caller_id_number: Mapped[str | None] = mapped_column(String(20))  # the alias presented
    block_outgoing: Mapped[bool] = mapped_column(Boolean, default=False)
    block_international: Mapped[bool] = mapped_column(Boolean, default=False)
    block_premium: Mapped[bool] = mapped_column(Boolean, default=False)
    number_list_mode: Mapped[str] = mapped_column(String(10), default="none")  # none|allow|block
    number_list: Mapped[list[str]] = mapped_column(JSON, default=list)  # E.164 numbers/prefixes
    allowed_ips: Mapped[list[str]] = mapped_column(JSON, default=list)  # addresses or CIDR
    # Incoming: numbers or prefixes (E.164) that may not call this line.
    blocked_callers: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VoicemailSettings(Base):
    __tablename__ = "telephony_voicemail"

    service_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    greeting: Mapped[str] = mapped_column(String(10), default="standard")  # rules.GREETING_*
    greeting_name: Mapped[str | None] = mapped_column(String(80))  # spoken in the "name" greeting
    # The uploaded greeting, converted to the telephony format (WAV, 8 kHz, mono, 16 bit): the
    # key of its file (core.files), or its audio itself in rows written before files were used.
    greeting_file: Mapped[str | None] = mapped_column(String(80))
    greeting_audio: Mapped[bytes | None] = mapped_column(LargeBinary)
    pin_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; never the PIN itself
    email_notification: Mapped[str] = mapped_column(String(20), default="with_audio")  # rules
    delete_after_email: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VoicemailMessage(Base):
    __tablename__ = "telephony_voicemail_message"
    __table_args__ = (Index("ix_telephony_voicemail_message_line", "service_id", "received_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(String(32))
    caller: Mapped[str | None] = mapped_column(String(40))  # E.164, or None when hidden
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # The key of its audio file (core.files); older rows hold the audio itself until moved.
    audio_file: Mapped[str | None] = mapped_column(String(80))
    audio: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(40), default="audio/wav")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Registration(Base):
    """A phone's registration of a line, as the switch reports it (a row per REGISTER that
    succeeded; an unregistration has `expires_at` equal to `registered_at`). The diagnostics read
    the last ones; the switch keeps the live bindings in its own memory."""

    __tablename__ = "telephony_registration"
    __table_args__ = (Index("ix_telephony_registration_line", "number", "registered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20))  # the line's E.164 number
    sip_username: Mapped[str] = mapped_column(String(60))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(Integer)
    transport: Mapped[str] = mapped_column(String(5))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(300))


class RoutingRecord(Base):
    """What the switch needs for one call to or from a line or number, compiled from every table
    that affects it, in the same transaction as the change. `version` grows at each change."""

    __tablename__ = "telephony_routing_record"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    sip_username: Mapped[str | None] = mapped_column(String(60), unique=True)
    service_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SpendingCapState(Base):
    """Whether a billing group's spending cap for calls beyond the plan is reached (set by the
    consumption area as it rates calls): the routing records of its lines carry it, and the
    switch refuses outgoing calls beyond the plan while it is on."""

    __tablename__ = "telephony_spending_cap_state"

    billing_group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reached: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
