"""Tables of the validation area: procedures, their documents and history, validated accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voipdesk.core.db import Base, UTCDateTime, new_id


class VoipProcedure(Base):
    """One validation procedure of a billing account: the SEPA mandate and the documents."""

    __tablename__ = "voip_procedure"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The billing account being validated (who is invoiced and debited).
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    # Equal to account_id while the procedure is open, NULL once closed: the unique index makes
    # "one open procedure per account" hold even when two requests race.
    open_for_account: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    # The customer's type and country when the procedure was made: they pick the documents.
    customer_kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(5))
    mandate_reference: Mapped[str] = mapped_column(String(35), unique=True)
    # The bank account holder; empty until the customer gives them (then filled in by hand).
    holder_name: Mapped[str | None] = mapped_column(String(140))
    holder_address: Mapped[str | None] = mapped_column(String(300))
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    payment_method_id: Mapped[str | None] = mapped_column(String(32))
    # What is waiting for it: {"order_ids": [...]} or {"billing_groups": [...]} (informational).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Since when the current state holds (the back office's age counts from the last arrival).
    status_since: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(32))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    documents: Mapped[list[VoipProcedureDocument]] = relationship(
        back_populates="procedure",
        cascade="all, delete-orphan",
        order_by="VoipProcedureDocument.id",
    )
    events: Mapped[list[VoipProcedureEvent]] = relationship(
        back_populates="procedure", cascade="all, delete-orphan", order_by="VoipProcedureEvent.id"
    )


class VoipProcedureDocument(Base):
    """What staff recorded about one required document (the last word; history keeps the rest)."""

    __tablename__ = "voip_procedure_document"
    __table_args__ = (UniqueConstraint("procedure_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_id: Mapped[str] = mapped_column(
        ForeignKey("voip_procedure.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # received | valid | invalid
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(32))

    procedure: Mapped[VoipProcedure] = relationship(back_populates="documents")


class VoipProcedureEvent(Base):
    """Every action on a procedure: who, when, what, and the state change if any."""

    __tablename__ = "voip_procedure_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_id: Mapped[str] = mapped_column(
        ForeignKey("voip_procedure.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(60))  # account:<id>, staff:<id>, system
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    procedure: Mapped[VoipProcedure] = relationship(back_populates="events")


class VoipValidation(Base):
    """A billing account validated for VoIP: its orders of VoIP services go straight to delivery."""

    __tablename__ = "voip_validation"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    procedure_id: Mapped[str | None] = mapped_column(
        ForeignKey("voip_procedure.id", ondelete="SET NULL")
    )
    validated_by: Mapped[str] = mapped_column(String(60))
