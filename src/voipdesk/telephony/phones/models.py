"""Plug & Phone tables: what telephony knows of a lent phone (its MAC, its model) beside the loan
that subscriptions keeps (deposit, line, return states), and the notices of its return."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime, new_id


class Phone(Base):
    __tablename__ = "telephony_phone"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("phone_loan.id"), unique=True)
    billing_group_id: Mapped[str] = mapped_column(String(32), index=True)
    mac: Mapped[str] = mapped_column(String(12), unique=True)  # 12 hex digits, lower case
    model_code: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_provisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HardwareReturn(Base):
    """The customer was told of a return (e-mail with the address and the deadline); staff's
    refusal of what came back, if any."""

    __tablename__ = "telephony_hardware_return"

    loan_id: Mapped[str] = mapped_column(ForeignKey("phone_loan.id"), primary_key=True)
    billing_group_id: Mapped[str] = mapped_column(String(32), index=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    email_id: Mapped[str | None] = mapped_column(String(32))
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused_by: Mapped[str | None] = mapped_column(String(60))
    refused_reason: Mapped[str | None] = mapped_column(Text)
