"""Request and response bodies of the subscriptions API (one named page per list)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from voipdesk.core.pagination import Page

TERMINATION_REASON = Literal[
    "move",
    "billing_difficulties",
    "end_of_activity",
    "missing_options",
    "competitor",
    "plug_and_phone_difficulties",
    "technical_difficulties",
    "other",
]


# --- Schemas -------------------------------------------------------------------------------------
class PendingChangeOut(BaseModel):
    id: str
    kind: str
    service_id: str | None
    number: str | None
    effective_on: date
    new_offer: str | None
    new_simultaneous_calls: int | None
    reason: str | None
    requested_at: datetime


class ServiceOut(BaseModel):
    id: str
    billing_group_id: str
    kind: str
    number: str | None
    offer: str
    simultaneous_calls: int
    outgoing_calls: bool
    pool_id: str | None
    monthly_price_excl_tax: dict[str, str]
    renewal_mode: str
    state: str
    expiry_on: date
    cancel_at_expiry: bool
    cancel_reason: str | None
    pending_changes: list[PendingChangeOut] = Field(default_factory=list)


class BillingContactChangeOut(BaseModel):
    id: str
    state: str = Field(
        description="waiting_for_acceptance, waiting_for_validation, applied, refused or cancelled"
    )
    billing_group_name: str
    from_contact: str
    to_contact: str
    requested_at: datetime
    decided_at: datetime | None
    procedure_id: str | None = Field(
        description="The new contact's VoIP validation procedure that the change waits for"
    )


class GroupOut(BaseModel):
    id: str
    name: str
    state: str
    created_at: datetime
    lines: int
    numbers: int
    faxes: int
    pending_changes: int
    billing_contact: str = Field(description="Handle of the account invoiced for the group")
    billing_contact_change: BillingContactChangeOut | None = Field(
        default=None, description="A change of billing contact waiting for its VoIP validation"
    )


class GroupPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    billing_contact: str | None = Field(
        default=None,
        min_length=1,
        max_length=254,
        description="Handle or e-mail of the new billing contact. It applies once that "
        "account accepts and is validated for VoIP; it waits for both.",
    )


class TerminationIn(BaseModel):
    reason: TERMINATION_REASON
    details: str | None = Field(default=None, max_length=2000)
    confirm_pool_termination: bool = False


class OfferChangeIn(BaseModel):
    offer: str = Field(max_length=60)


class OfferChangesIn(BaseModel):
    offer: str = Field(max_length=60)
    numbers: list[str] = Field(min_length=1, max_length=500)


class CallsIn(BaseModel):
    simultaneous_calls: int
    accept_telephony_terms: bool = False


class SimultaneousCallsOut(BaseModel):
    number: str
    simultaneous_calls: int
    minimum: int
    maximum: int
    adjustable: bool
    extra_call_monthly_excl_tax: dict[str, str]
    pending_change: PendingChangeOut | None = None
    purchase_order_id: str | None = None
    prorated_excl_tax: dict[str, str] | None = None


class AliasConversionIn(BaseModel):
    offer: str = Field(max_length=60)
    accept_contracts: bool = False


class ServicePatch(BaseModel):
    renewal_mode: Literal["automatic", "manual"] | None = None
    cancel_at_expiry: bool | None = None
    reason: TERMINATION_REASON | None = None
    details: str | None = Field(default=None, max_length=2000)


class AvailableOffersOut(BaseModel):
    current: str
    available: list[str]


class HardwareLoanOut(BaseModel):
    id: str
    account_id: str
    billing_group_id: str
    service_id: str | None
    hardware_code: str
    deposit: dict[str, str]
    state: str
    return_due_on: date | None
    received_on: date | None
    refund_due_on: date | None


# --- Pages (one schema name per list in the OpenAPI) -------------------------------------------
class BillingGroupPage(Page[GroupOut]):
    pass


class PendingChangePage(Page[PendingChangeOut]):
    pass


class LinePage(Page[ServiceOut]):
    pass


class AliasNumberPage(Page[ServiceOut]):
    pass


class FaxLinePage(Page[ServiceOut]):
    pass


class ServicePage(Page[ServiceOut]):
    pass


class BillingContactRequestPage(Page[BillingContactChangeOut]):
    pass


class HardwareLoanPage(Page[HardwareLoanOut]):
    pass
