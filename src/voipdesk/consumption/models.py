"""Consumption tables: the rate tables (effective-dated like the catalogue's prices), the rating
of each call, the spending cap of each billing group, the monthly statements and the re-rating
adjustments carried to the next invoice.

Amounts summed by SQL are integers of 1/10,000 of the currency (`_e4`) or cents, exact on both
databases; code turns them into Decimal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, DecimalAmount, UTCDateTime

ANY_PLAN = "*"  # a rate for every offer without its own


class Rate(Base):
    """The price of one destination for one offer ("*" = every offer), valid from a date until
    the next one (exclusive)."""

    __tablename__ = "consumption_rate"
    __table_args__ = (
        UniqueConstraint("plan", "destination", "valid_from"),
        CheckConstraint("first_increment >= 1 AND next_increment >= 1", name="increments"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan: Mapped[str] = mapped_column(String(60), default=ANY_PLAN)  # catalogue offer code
    destination: Mapped[str] = mapped_column(String(40))  # rules.DEST_*
    per_minute: Mapped[Decimal] = mapped_column(DecimalAmount())
    connection_fee: Mapped[Decimal] = mapped_column(DecimalAmount())
    first_increment: Mapped[int] = mapped_column(Integer, default=60)
    next_increment: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    updated_by: Mapped[str | None] = mapped_column(String(60))


class Inclusion(Base):
    """What an offer or option includes from a date: destinations and seconds a month (None = no
    limit), consumed in `position` order after the offer's own."""

    __tablename__ = "consumption_inclusion"
    __table_args__ = (UniqueConstraint("plan", "name", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan: Mapped[str] = mapped_column(String(60))  # offer or option code
    name: Mapped[str] = mapped_column(String(60))
    destinations: Mapped[list[str]] = mapped_column(JSON, default=list)
    seconds: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class RatedCall(Base):
    """The rating of one call record (same key): rated again, it is replaced."""

    __tablename__ = "consumption_rated_call"
    __table_args__ = (
        Index("ix_consumption_rated_call_line", "line_number", "month", "started_at"),
        Index("ix_consumption_rated_call_group", "billing_group_id", "month"),
    )

    call_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    billing_group_id: Mapped[str | None] = mapped_column(String(32))
    line_number: Mapped[str | None] = mapped_column(String(20))
    month: Mapped[date] = mapped_column(Date)  # its 1st, in Paris time
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    destination: Mapped[str] = mapped_column(String(40))
    billed_seconds: Mapped[int] = mapped_column(Integer)
    included_seconds: Mapped[int] = mapped_column(Integer)
    price_e4: Mapped[int] = mapped_column(BigInteger)  # excl. tax, 1/10,000 EUR


class SpendingCap(Base):
    """A billing group's chosen cap for calls beyond the plan (none = the default)."""

    __tablename__ = "consumption_spending_cap"

    billing_group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(DecimalAmount())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(60))


class CapMonth(Base):
    """A group's beyond-plan amount of a month, the warnings sent for it and whether its cap is
    reached (outgoing calls beyond the plan then refused by the switch)."""

    __tablename__ = "consumption_cap_month"

    billing_group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    spent_e4: Mapped[int] = mapped_column(BigInteger, default=0)
    warned: Mapped[list[int]] = mapped_column(JSON, default=list)  # thresholds e-mailed
    reached: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Statement(Base):
    """The monthly statement of a billing group, made by the renewal run for the month before."""

    __tablename__ = "consumption_statement"

    billing_group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(BigInteger)
    total_e4: Mapped[int] = mapped_column(BigInteger)  # the calls' prices
    beyond_plan_cents: Mapped[int] = mapped_column(BigInteger)  # total rounded to the cent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    invoiced_period: Mapped[date | None] = mapped_column(Date)  # the renewal that charged it


class Adjustment(Base):
    """A re-rating's difference for one group and month, charged (> 0) or credited (< 0) on the
    next invoice, with its explanation."""

    __tablename__ = "consumption_adjustment"
    __table_args__ = (
        Index("ix_consumption_adjustment_open", "billing_group_id", "invoiced_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    billing_group_id: Mapped[str] = mapped_column(String(32))
    month: Mapped[date] = mapped_column(Date)
    difference_cents: Mapped[int] = mapped_column(BigInteger)
    explanation: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(60))
    invoiced_period: Mapped[date | None] = mapped_column(Date)
