"""Portability tables: one row per request (its numbers, holder, date and current step), one row
per step it went through (the timeline), and one per number being ported (what makes a number
ported twice at the same time impossible, even for two racing requests)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime, new_id


class Portability(Base):
    __tablename__ = "telephony_portability"
    __table_args__ = (Index("ix_telephony_portability_group", "billing_group_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # shown to people: PO-XXXXXX
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"))
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    country: Mapped[str] = mapped_column(String(2))
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)  # E.164
    current_operator: Mapped[str] = mapped_column(String(80))
    rio: Mapped[str | None] = mapped_column(String(12))  # France
    donor_reference: Mapped[str | None] = mapped_column(String(60))  # Belgium, Switzerland
    holder_kind: Mapped[str] = mapped_column(String(12))  # rules.HOLDER_KINDS
    holder_name: Mapped[str] = mapped_column(String(140))
    registration_number: Mapped[str | None] = mapped_column(String(20))
    desired_date: Mapped[date | None] = mapped_column(Date)  # None: as soon as possible
    destination_line: Mapped[str | None] = mapped_column(String(20))  # E.164 of a group line
    # E.164 of a configured alias number of the group, whose configuration the numbers copy
    destination_configuration: Mapped[str | None] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(20), index=True)  # rules.STEPS, failed, cancelled
    failure_reason: Mapped[str | None] = mapped_column(String(30))
    failure_details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PortabilityEvent(Base):
    """One step of a request's timeline: who moved it there, when, and why."""

    __tablename__ = "telephony_portability_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portability_id: Mapped[str] = mapped_column(ForeignKey("telephony_portability.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(String(300))
    customer_told: Mapped[bool] = mapped_column(Boolean, default=False)


class PortingNumber(Base):
    """A number while a request ports it (removed when the request ends)."""

    __tablename__ = "telephony_porting_number"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    portability_id: Mapped[str] = mapped_column(ForeignKey("telephony_portability.id"), index=True)
