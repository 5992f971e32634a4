"""Subscriptions tables.

One `service` table holds every kind (SIP line, trunk, alias number, fax line, option of a line):
the monthly renewal works on it with set-based SQL, so the price (in 1/10 000 of the currency, an
exact integer on both databases) and the tax country are denormalised onto each row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, DecimalAmount, UTCDateTime, new_id

PRICE_SCALE = 10_000  # prices are stored as integers of 1/10 000 of the currency


def price_to_units(amount: Decimal) -> int:
    return int((Decimal(amount) * PRICE_SCALE).to_integral_value())


def units_to_price(units: int) -> Decimal:
    return (Decimal(units) / PRICE_SCALE).quantize(Decimal("0.0001"))


class BillingGroup(Base):
    __tablename__ = "billing_group"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id"), index=True)  # owner
    name: Mapped[str] = mapped_column(String(100), default="")
    admin_account_id: Mapped[str] = mapped_column(String(32))
    tech_account_id: Mapped[str] = mapped_column(String(32))
    # Who is invoiced and debited for everything the group holds.
    billing_account_id: Mapped[str] = mapped_column(String(32), index=True)
    tax_country: Mapped[str] = mapped_column(String(5))
    state: Mapped[str] = mapped_column(String(20), default="active")  # active | terminated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Service(Base):
    __tablename__ = "service"
    # Few indexes, none on what the renewal updates for every row (expiry), so that its monthly
    # update stays in place (HOT) on PostgreSQL. The partial ones serve the renewal's selective
    # questions (a few percent of the rows); only the rare changes of `state` leave their page.
    __table_args__ = (
        Index("ix_service_group_kind", "billing_group_id", "kind"),
        *(
            Index(name, "state", postgresql_where=text(where), sqlite_where=text(where))
            for name, where in (
                ("ix_service_manual_renewal", "renewal_mode = 'manual'"),
                ("ix_service_suspended", "state = 'suspended'"),
                ("ix_service_cancel_at_expiry", "cancel_at_expiry"),
            )
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"))
    account_id: Mapped[str] = mapped_column(String(32), index=True)  # the billing contact
    kind: Mapped[str] = mapped_column(String(20))  # rules.KIND_*
    number_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    offer_code: Mapped[str] = mapped_column(String(60))
    # An option belongs to a line: it is renewed and terminated with it.
    parent_service_id: Mapped[str | None] = mapped_column(String(32), index=True)
    pool_id: Mapped[str | None] = mapped_column(String(32), index=True)  # alias numbers of one pool
    simultaneous_calls: Mapped[int] = mapped_column(Integer, default=1)
    outgoing_calls: Mapped[bool] = mapped_column(Boolean, default=True)
    monthly_price_e4: Mapped[int] = mapped_column(Integer, default=0)
    tax_country: Mapped[str] = mapped_column(String(5))
    renewal_mode: Mapped[str] = mapped_column(String(10), default="automatic")
    state: Mapped[str] = mapped_column(String(20), default="active")
    expiry_on: Mapped[date] = mapped_column(Date)  # last day covered (end of a month)
    # End of service chosen by the customer: deleted at expiry unless undone.
    cancel_at_expiry: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_details: Mapped[str | None] = mapped_column(Text)
    sip_username: Mapped[str | None] = mapped_column(String(60), unique=True)
    # Digest HA1 = md5("user:realm:password"), the realm being the SIP domain; the password itself
    # is never stored (shown once when it is made).
    sip_ha1: Mapped[str | None] = mapped_column(String(32))
    created_order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def monthly_price_excl_tax(self) -> Decimal:
        return units_to_price(self.monthly_price_e4)


class PendingChange(Base):
    """A future-dated change, cancellable until it applies on `effective_on`."""

    __tablename__ = "pending_change"
    __table_args__ = (Index("ix_pending_change_due", "state", "effective_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(String(32), index=True)  # None: whole group
    kind: Mapped[str] = mapped_column(String(30))  # rules.CHANGE_*
    # What the change sets, as columns so that the renewal applies changes with set-based SQL.
    new_offer_code: Mapped[str | None] = mapped_column(String(60))
    new_kind: Mapped[str | None] = mapped_column(String(20))
    new_simultaneous_calls: Mapped[int | None] = mapped_column(Integer)
    new_monthly_price_e4: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    effective_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending|applied|cancelled
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(String(60))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PhoneLoan(Base):
    """Hardware lent against a deposit; its return is tracked here."""

    __tablename__ = "phone_loan"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(String(32), index=True)  # attached line
    order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    hardware_code: Mapped[str] = mapped_column(String(60))
    deposit: Mapped[Decimal] = mapped_column(DecimalAmount())
    state: Mapped[str] = mapped_column(String(20), default="lent")  # rules.LOAN_*
    lent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    return_opened_on: Mapped[date | None] = mapped_column(Date)
    return_due_on: Mapped[date | None] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date)
    refund_due_on: Mapped[date | None] = mapped_column(Date)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SubscriptionDelivery(Base):
    """One row per delivered order: a repeated delivery returns what the first one created."""

    __tablename__ = "subscription_delivery"

    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServiceEvent(Base):
    """Every state change of a service or group: who, when, what."""

    __tablename__ = "service_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    billing_group_id: Mapped[str] = mapped_column(String(32), index=True)
    service_id: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(60))
    what: Mapped[str] = mapped_column(String(200))


class DeletionRequest(Base):
    """ "Delete now": a single-use confirmation link sent by e-mail (only its hash is stored)."""

    __tablename__ = "service_deletion_request"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BillingContactChange(Base):
    """A change of a billing group's billing contact. Once the named contact accepts, it applies
    at once when that contact is validated for VoIP, else it waits for that contact's validation
    procedure to be approved."""

    __tablename__ = "billing_contact_change"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    billing_group_id: Mapped[str] = mapped_column(ForeignKey("billing_group.id"), index=True)
    # Equal to billing_group_id while open (rules.CONTACT_CHANGE_OPEN_STATES), NULL once decided:
    # the unique index keeps one open change per group even when two requests race.
    waiting_for_group: Mapped[str | None] = mapped_column(String(32), unique=True)
    from_account_id: Mapped[str] = mapped_column(String(32))
    to_account_id: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(30))  # rules.CONTACT_CHANGE_*
    procedure_id: Mapped[str | None] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(String(60))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
