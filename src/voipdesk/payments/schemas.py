"""The payments API's request and response bodies (also used by the orders API for a card given
with a payment), and the JSON of a payment method."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from voipdesk.payments.methods import CardInput
from voipdesk.payments.models import PaymentMethod


class CardIn(BaseModel):
    number: str = Field(max_length=40)
    exp_month: int
    exp_year: int
    cvc: str = Field(max_length=8)


class PaymentMethodIn(BaseModel):
    type: Literal["card", "sepa_debit", "bank_transfer"]
    make_default: bool = False
    card: CardIn | None = None
    iban: str | None = Field(None, max_length=64)
    bic: str | None = Field(None, max_length=20)
    holder_name: str | None = Field(None, max_length=200)
    holder_address: str | None = Field(None, max_length=500)
    accept_mandate: bool = False


class PaymentMethodPatch(BaseModel):
    is_default: Literal[True]


class PaymentMethodOut(BaseModel):
    id: str
    type: str
    label: str
    is_default: bool
    created_at: str
    card: dict[str, Any] | None = None
    sepa_debit: dict[str, Any] | None = None


class ConfirmIn(BaseModel):
    approve: bool = True


def card_input(card: CardIn | None) -> CardInput | None:
    return CardInput(**card.model_dump()) if card is not None else None


def payment_method_json(method: PaymentMethod) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": method.id,
        "type": method.method_type,
        "label": method.label,
        "is_default": method.is_default,
        "created_at": method.created_at.isoformat(),
        "card": None,
        "sepa_debit": None,
    }
    if method.method_type == "card":
        body["card"] = {
            "brand": method.card_brand,
            "last4": method.card_last4,
            "exp_month": method.card_exp_month,
            "exp_year": method.card_exp_year,
        }
    elif method.method_type == "sepa_debit":
        body["sepa_debit"] = {
            "iban_last4": (method.iban or "")[-4:],
            "country": (method.iban or "")[:2],
            "bic": method.bic,
            "holder_name": method.holder_name,
            "holder_address": method.holder_address,
            "mandate_reference": method.mandate_reference,
            "mandate_signed_on": method.mandate_signed_on.isoformat()
            if method.mandate_signed_on
            else None,
        }
    return body
