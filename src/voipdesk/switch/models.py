"""Switch tables: the call records Kamailio reports (one row per call, whatever its outcome)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime


class CallRecord(Base):
    """One call, answered or not. `call_key` is its stable identity (the Call-ID and the caller's
    tag of the first INVITE, or the identity given by an imported file), so that a retried
    report, a restarted switch or an imported file twice stores the call once."""

    __tablename__ = "switch_call_record"
    __table_args__ = (
        Index("ix_switch_call_record_line", "line_number", "started_at"),
        Index("ix_switch_call_record_group", "billing_group_id", "started_at"),
        Index("ix_switch_call_record_unannounced", "announced_at", "ended_at"),
    )

    call_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))  # E.164, a SIP user, or "anonymous"
    callee: Mapped[str] = mapped_column(String(64))  # the number dialled, as normalised
    direction: Mapped[str] = mapped_column(String(10))  # rules.DIRECTION_*
    # The customer's line the call belongs to (the caller's for outgoing and internal calls, the
    # called line or alias number for incoming ones) and its billing group.
    line_number: Mapped[str | None] = mapped_column(String(20))
    billing_group_id: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(20))  # rules.ROUTE_*
    target: Mapped[str | None] = mapped_column(String(64))  # where it was finally sent
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)  # answered time
    disposition: Mapped[str] = mapped_column(String(12))  # rules.DISPOSITION_*
    sip_code: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10), default="switch")  # switch | import
    # When its `switch.call_ended` event was published (None: not yet; see actions.announce).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ActiveCall(Base):
    """A call in progress, as the switch reports it (added when it starts ringing, updated when
    answered, removed when it ends); the line page shows them live."""

    __tablename__ = "switch_active_call"
    __table_args__ = (Index("ix_switch_active_call_line", "line_number"),)

    call_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))
    callee: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(10))
    line_number: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SecurityEvent(Base):
    """What the switch did against an address: failed authentications, a ban, a flood."""

    __tablename__ = "switch_security_event"
    __table_args__ = (Index("ix_switch_security_event_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))  # rules.SECURITY_*
    ip: Mapped[str] = mapped_column(String(45))
    sip_username: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(String(200))
