"""Catalogue tables: operator-editable offers, effective-dated prices, number inventory,
payment-method rules and promotion codes. Offer codes are the stable identifiers of `rules.py`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, DecimalAmount, UTCDateTime

# Price components of an offer.
PRICE_MONTHLY = "monthly"  # per unit and per month (lines, numbers, fax, options)
PRICE_EXTRA_CALL = "extra_call_monthly"  # per simultaneous call above the included ones, per month
PRICE_DEPOSIT = "deposit"  # lent hardware: refunded when it comes back, so not taxed
PRICE_SETUP = "setup"  # one-off
PRICE_COMPONENTS = (PRICE_MONTHLY, PRICE_EXTRA_CALL, PRICE_DEPOSIT, PRICE_SETUP)

NUMBER_FREE = "free"
NUMBER_RESERVED = "reserved"
NUMBER_ASSIGNED = "assigned"


class Offer(Base):
    __tablename__ = "catalogue_offer"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # rules.KIND_*
    label_en: Mapped[str] = mapped_column(String(120))
    label_fr: Mapped[str] = mapped_column(String(120))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_fr: Mapped[str] = mapped_column(Text, default="")
    # Customer countries where it is sold (FR, BE, CH, CA-QC).
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def label(self, language: str) -> str:
        return self.label_fr if language == "fr" else self.label_en

    def description(self, language: str) -> str:
        return self.description_fr if language == "fr" else self.description_en


class Price(Base):
    """One price of one offer component, valid from a date until the next one (exclusive)."""

    __tablename__ = "catalogue_price"
    __table_args__ = (
        UniqueConstraint("offer_code", "component", "country", "valid_from"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offer_code: Mapped[str] = mapped_column(ForeignKey("catalogue_offer.code"), index=True)
    component: Mapped[str] = mapped_column(String(30))
    # "*" = every country without its own price.
    country: Mapped[str] = mapped_column(String(5), default="*")
    amount: Mapped[Decimal] = mapped_column(DecimalAmount())
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class InventoryNumber(Base):
    """A number the operator can sell. Reserved by an order until it expires, then free again."""

    __tablename__ = "catalogue_number"

    number_e164: Mapped[str] = mapped_column(String(20), primary_key=True)
    region: Mapped[str] = mapped_column(
        String(2), index=True
    )  # ISO numbering region: FR, BE, CH, CA
    area_prefix: Mapped[str] = mapped_column(String(10), index=True)  # E.164 prefix, e.g. +331
    area_name: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default=NUMBER_FREE, index=True)
    reserved_order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assigned_account_id: Mapped[str | None] = mapped_column(String(32))


class PaymentMethodRule(Base):
    """A payment method offered to accounts of one country (and one kind, or every kind: "*")."""

    __tablename__ = "catalogue_payment_rule"
    __table_args__ = (UniqueConstraint("country", "account_kind", "method_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    country: Mapped[str] = mapped_column(String(5))
    account_kind: Mapped[str] = mapped_column(String(20), default="*")
    method_type: Mapped[str] = mapped_column(String(20))


class PromotionCode(Base):
    __tablename__ = "catalogue_promotion"
    __table_args__ = (
        CheckConstraint("(percent IS NULL) <> (amount_excl_tax IS NULL)", name="percent_or_amount"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)  # stored upper case
    description: Mapped[str] = mapped_column(String(200), default="")
    percent: Mapped[Decimal | None] = mapped_column(DecimalAmount())  # 10 = 10 %
    amount_excl_tax: Mapped[Decimal | None] = mapped_column(DecimalAmount())
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # exclusive
    max_uses: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SpendingCapPolicy(Base):
    """The spending cap's defaults and limits (euros), valid from a date until the next one
    (exclusive); `rules.BUILT_IN_SPENDING_CAP_POLICY` applies on days without a row."""

    __tablename__ = "catalogue_spending_cap"
    # The amounts' order is checked by rules.spending_cap_policy_problems (SQLite keeps
    # DecimalAmount as text, so a CHECK comparing them would compare strings).

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    valid_from: Mapped[date] = mapped_column(Date, unique=True)
    valid_until: Mapped[date | None] = mapped_column(Date)
    default_amount: Mapped[Decimal] = mapped_column(DecimalAmount())
    maximum: Mapped[Decimal] = mapped_column(DecimalAmount())
    new_customer_default: Mapped[Decimal] = mapped_column(DecimalAmount())
    new_customer_maximum: Mapped[Decimal] = mapped_column(DecimalAmount())
    minimum: Mapped[Decimal] = mapped_column(DecimalAmount())
    new_customer_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(60))
