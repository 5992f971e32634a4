"""REST API of billing groups, lines, numbers, fax lines, pending changes and service management."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from voipdesk.accounts.api_auth import current_account, current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.http import get_platform
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.models import (
    BillingContactChange,
    BillingGroup,
    PendingChange,
    Service,
)

router = APIRouter(tags=["telephony"])

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
    offer: str


class OfferChangesIn(BaseModel):
    offer: str
    numbers: list[str] = Field(min_length=1, max_length=500)


class CallsIn(BaseModel):
    simultaneous_calls: int
    accept_telephony_terms: bool = False


class CallsOut(BaseModel):
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
    offer: str
    accept_contracts: bool = False


class ServicePatch(BaseModel):
    renewal_mode: Literal["automatic", "manual"] | None = None
    cancel_at_expiry: bool | None = None
    reason: TERMINATION_REASON | None = None
    details: str | None = Field(default=None, max_length=2000)


class AvailableOffersOut(BaseModel):
    current: str
    available: list[str]


# --- Helpers -------------------------------------------------------------------------------------
def _number(value: str) -> str:
    value = value.strip().replace(" ", "")
    return value if value.startswith("+") else f"+{value}"


def change_out(change: PendingChange, service: Service | None = None) -> PendingChangeOut:
    return PendingChangeOut(
        id=change.id,
        kind=change.kind,
        service_id=change.service_id,
        number=service.number_e164 if service is not None else None,
        effective_on=change.effective_on,
        new_offer=change.new_offer_code,
        new_simultaneous_calls=change.new_simultaneous_calls,
        reason=change.reason,
        requested_at=change.requested_at,
    )


def service_out(service: Service, changes: list[PendingChange] | None = None) -> ServiceOut:
    return ServiceOut(
        id=service.id,
        billing_group_id=service.billing_group_id,
        kind=service.kind,
        number=service.number_e164,
        offer=service.offer_code,
        simultaneous_calls=service.simultaneous_calls,
        outgoing_calls=service.outgoing_calls,
        pool_id=service.pool_id,
        monthly_price_excl_tax=Money(service.monthly_price_excl_tax).as_json(),
        renewal_mode=service.renewal_mode,
        state=service.state,
        expiry_on=service.expiry_on,
        cancel_at_expiry=service.cancel_at_expiry,
        cancel_reason=service.cancel_reason,
        pending_changes=[change_out(c, service) for c in changes or []],
    )


def _handle(session: Any, account_id: str) -> str:
    account = session.get(Account, account_id)
    return account.handle if account is not None else account_id


def contact_change_out(session: Any, change: BillingContactChange) -> BillingContactChangeOut:
    group = session.get(BillingGroup, change.billing_group_id)
    return BillingContactChangeOut(
        id=change.id,
        state=change.state,
        billing_group_name=group.name if group is not None else "",
        from_contact=_handle(session, change.from_account_id),
        to_contact=_handle(session, change.to_account_id),
        requested_at=change.requested_at,
        decided_at=change.decided_at,
        procedure_id=change.procedure_id,
    )


def group_out(session: Any, group: BillingGroup) -> GroupOut:
    services = actions.group_services(session, group.id)
    waiting = actions.waiting_contact_change(session, group.id)
    return GroupOut(
        id=group.id,
        name=group.name,
        state=group.state,
        created_at=group.created_at,
        lines=sum(1 for s in services if s.kind in rules.LINE_KINDS),
        numbers=sum(1 for s in services if s.kind == rules.KIND_ALIAS_NUMBER),
        faxes=sum(1 for s in services if s.kind == rules.KIND_FAX_LINE),
        pending_changes=len(actions.pending_changes(session, group.id)),
        billing_contact=_handle(session, group.billing_account_id),
        billing_contact_change=contact_change_out(session, waiting) if waiting else None,
    )


def _services(
    platform: Platform, account: Account, group: str, kinds: tuple[str, ...]
) -> list[ServiceOut]:
    with platform.session() as session:
        actions.get_group(session, account.id, group)
        changes = actions.pending_changes(session, group)
        return [
            service_out(s, [c for c in changes if c.service_id == s.id])
            for s in actions.group_services(session, group, kinds)
        ]


def _one(
    platform: Platform, account: Account, group: str, number: str, kinds: tuple[str, ...]
) -> ServiceOut:
    with platform.session() as session:
        service = actions.get_numbered_service(session, account.id, group, _number(number), kinds)
        return service_out(service, actions.pending_changes(session, group, service.id))


# --- Billing groups ------------------------------------------------------------------------------
@router.get("/telephony", response_model=list[GroupOut], summary="Billing groups")
def list_groups(
    platform: Platform = Depends(get_platform), account: Account = Depends(current_account)
) -> list[GroupOut]:
    with platform.session() as session:
        return [group_out(session, g) for g in actions.list_groups(session, account.id)]


@router.get("/telephony/{group}", response_model=GroupOut)
def get_group(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> GroupOut:
    with platform.session() as session:
        return group_out(session, actions.get_group(session, account.id, group))


@router.patch("/telephony/{group}", response_model=GroupOut)
def patch_group(
    group: str,
    body: GroupPatch,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> GroupOut:
    """Renames the group and/or names its new billing contact (see `billing_contact`)."""
    with platform.transaction() as session:
        found = actions.get_group(session, account.id, group, lock=True)
        if body.name is not None:
            found.name = body.name.strip()
            actions.record(session, platform, found.id, None, f"account:{account.id}", "renamed")
        if body.billing_contact is not None:
            actions.request_billing_contact_change(
                session, platform, account.id, found.id, body.billing_contact
            )
        return group_out(session, found)


@router.delete(
    "/telephony/{group}/billing-contact-change",
    status_code=204,
    summary="Cancel the change of billing contact waiting for its VoIP validation",
)
def cancel_billing_contact_change(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        actions.cancel_billing_contact_change(session, platform, account.id, group)
    return Response(status_code=204)


@router.delete(
    "/telephony/{group}",
    response_model=PendingChangeOut,
    status_code=202,
    summary="Terminate the billing group and all it holds at the next renewal",
)
def terminate_group(
    group: str,
    body: TerminationIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangeOut:
    with platform.transaction() as session:
        return change_out(
            actions.terminate_group(session, platform, account.id, group, body.reason, body.details)
        )


@router.get("/telephony/{group}/pending-changes", response_model=list[PendingChangeOut])
def list_pending_changes(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> list[PendingChangeOut]:
    with platform.session() as session:
        actions.get_group(session, account.id, group)
        out = []
        for change in actions.pending_changes(session, group):
            service = session.get(Service, change.service_id) if change.service_id else None
            out.append(change_out(change, service))
        return out


@router.delete("/telephony/{group}/pending-changes/{change_id}", status_code=204)
def cancel_pending_change(
    group: str,
    change_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        actions.cancel_pending_change(session, platform, account.id, group, change_id)
    return Response(status_code=204)


# --- Lines ---------------------------------------------------------------------------------------
@router.get("/telephony/{group}/lines", response_model=list[ServiceOut])
def list_lines(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> list[ServiceOut]:
    return _services(platform, account, group, rules.LINE_KINDS)


@router.get("/telephony/{group}/lines/{number}", response_model=ServiceOut)
def get_line(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ServiceOut:
    return _one(platform, account, group, number, rules.LINE_KINDS)


@router.get("/telephony/{group}/lines/{number}/available-offers", response_model=AvailableOffersOut)
def available_offers(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AvailableOffersOut:
    with platform.session() as session:
        line = actions.get_numbered_service(
            session, account.id, group, _number(number), rules.LINE_KINDS
        )
        return AvailableOffersOut(current=line.offer_code, available=actions.available_offers(line))


@router.put("/telephony/{group}/lines/{number}/offer-change", response_model=PendingChangeOut)
def change_offer(
    group: str,
    number: str,
    body: OfferChangeIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangeOut:
    with platform.transaction() as session:
        (change,) = actions.request_offer_change(
            session, platform, account.id, group, [_number(number)], body.offer
        )
        return change_out(change, session.get(Service, change.service_id))


@router.delete("/telephony/{group}/lines/{number}/offer-change", status_code=204)
def cancel_offer_change(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        actions.cancel_service_change(
            session,
            platform,
            account.id,
            group,
            _number(number),
            (rules.CHANGE_OFFER,),
            rules.LINE_KINDS,
        )
    return Response(status_code=204)


@router.post(
    "/telephony/{group}/offer-changes", response_model=list[PendingChangeOut], status_code=201
)
def change_offers(
    group: str,
    body: OfferChangesIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> list[PendingChangeOut]:
    with platform.transaction() as session:
        changes = actions.request_offer_change(
            session, platform, account.id, group, [_number(n) for n in body.numbers], body.offer
        )
        return [change_out(c, session.get(Service, c.service_id)) for c in changes]


def _calls_out(line: Service) -> CallsOut:
    from voipdesk.catalogue import rules as catalogue_rules

    calls_range = catalogue_rules.simultaneous_calls_range(line.offer_code)
    return CallsOut(
        number=line.number_e164 or "",
        simultaneous_calls=line.simultaneous_calls,
        minimum=calls_range.minimum if calls_range else 1,
        maximum=calls_range.maximum if calls_range else 1,
        adjustable=bool(calls_range and calls_range.adjustable),
        extra_call_monthly_excl_tax=Money(rules.EXTRA_CALL_MONTHLY_PRICE).as_json(),
    )


@router.get("/telephony/{group}/lines/{number}/simultaneous-calls", response_model=CallsOut)
def get_calls(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> CallsOut:
    with platform.session() as session:
        line = actions.get_numbered_service(
            session, account.id, group, _number(number), rules.LINE_KINDS
        )
        out = _calls_out(line)
        pending = [
            c
            for c in actions.pending_changes(session, group, line.id)
            if c.kind == rules.CHANGE_CALLS_DECREASE
        ]
        out.pending_change = change_out(pending[-1], line) if pending else None
        return out


@router.put("/telephony/{group}/lines/{number}/simultaneous-calls", response_model=CallsOut)
def set_calls(
    group: str,
    number: str,
    body: CallsIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> CallsOut:
    with platform.transaction() as session:
        result = actions.set_simultaneous_calls(
            session,
            platform,
            account.id,
            group,
            _number(number),
            body.simultaneous_calls,
            body.accept_telephony_terms,
        )
        line = actions.get_numbered_service(
            session, account.id, group, _number(number), rules.LINE_KINDS
        )
        out = _calls_out(line)
        if isinstance(result, PendingChange):
            out.pending_change = change_out(result, line)
        else:
            out.purchase_order_id = result.order_id
            out.prorated_excl_tax = Money(result.prorated_excl_tax).as_json()
        return out


@router.post(
    "/telephony/{group}/lines/{number}/conversion", response_model=PendingChangeOut, status_code=201
)
def convert_line(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangeOut:
    with platform.transaction() as session:
        change = actions.convert_line_to_alias(
            session, platform, account.id, group, _number(number)
        )
        return change_out(change, session.get(Service, change.service_id))


@router.delete("/telephony/{group}/lines/{number}/conversion", status_code=204)
def cancel_line_conversion(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        actions.cancel_service_change(
            session,
            platform,
            account.id,
            group,
            _number(number),
            (rules.CHANGE_TO_ALIAS,),
            rules.LINE_KINDS,
        )
    return Response(status_code=204)


def _terminate(
    platform: Platform,
    account: Account,
    group: str,
    number: str,
    kinds: tuple[str, ...],
    body: TerminationIn,
) -> PendingChangeOut:
    with platform.transaction() as session:
        change = actions.request_termination(
            session,
            platform,
            account.id,
            group,
            _number(number),
            kinds,
            body.reason,
            body.details,
            body.confirm_pool_termination,
        )
        return change_out(change, session.get(Service, change.service_id))


def _cancel_termination(
    platform: Platform, account: Account, group: str, number: str, kinds: tuple[str, ...]
) -> Response:
    with platform.transaction() as session:
        actions.cancel_service_change(
            session,
            platform,
            account.id,
            group,
            _number(number),
            (rules.CHANGE_TERMINATION,),
            kinds,
        )
    return Response(status_code=204)


@router.post(
    "/telephony/{group}/lines/{number}/termination",
    response_model=PendingChangeOut,
    status_code=201,
)
def terminate_line(
    group: str,
    number: str,
    body: TerminationIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangeOut:
    return _terminate(platform, account, group, number, rules.LINE_KINDS, body)


@router.delete("/telephony/{group}/lines/{number}/termination", status_code=204)
def cancel_line_termination(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    return _cancel_termination(platform, account, group, number, rules.LINE_KINDS)


# --- Alias numbers -------------------------------------------------------------------------------
ALIAS = (rules.KIND_ALIAS_NUMBER,)
FAX = (rules.KIND_FAX_LINE,)


@router.get("/telephony/{group}/numbers", response_model=list[ServiceOut])
def list_numbers(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> list[ServiceOut]:
    return _services(platform, account, group, ALIAS)


@router.get("/telephony/{group}/numbers/{number}", response_model=ServiceOut)
def get_alias(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ServiceOut:
    return _one(platform, account, group, number, ALIAS)


@router.post(
    "/telephony/{group}/numbers/{number}/conversion",
    response_model=PendingChangeOut,
    status_code=201,
)
def convert_alias(
    group: str,
    number: str,
    body: AliasConversionIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangeOut:
    with platform.transaction() as session:
        change = actions.convert_alias_to_line(
            session, platform, account.id, group, _number(number), body.offer, body.accept_contracts
        )
        return change_out(change, session.get(Service, change.service_id))


@router.delete("/telephony/{group}/numbers/{number}/conversion", status_code=204)
def cancel_alias_conversion(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.transaction() as session:
        actions.cancel_service_change(
            session, platform, account.id, group, _number(number), (rules.CHANGE_TO_LINE,), ALIAS
        )
    return Response(status_code=204)


@router.post(
    "/telephony/{group}/numbers/{number}/termination",
    response_model=PendingChangeOut,
    status_code=201,
)
def terminate_alias(
    group: str,
    number: str,
    body: TerminationIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangeOut:
    return _terminate(platform, account, group, number, ALIAS, body)


@router.delete("/telephony/{group}/numbers/{number}/termination", status_code=204)
def cancel_alias_termination(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    return _cancel_termination(platform, account, group, number, ALIAS)


# --- Fax lines -----------------------------------------------------------------------------------
@router.get("/telephony/{group}/faxes", response_model=list[ServiceOut])
def list_faxes(
    group: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> list[ServiceOut]:
    return _services(platform, account, group, FAX)


@router.get("/telephony/{group}/faxes/{number}", response_model=ServiceOut)
def get_fax(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ServiceOut:
    return _one(platform, account, group, number, FAX)


@router.post(
    "/telephony/{group}/faxes/{number}/termination",
    response_model=PendingChangeOut,
    status_code=201,
)
def terminate_fax(
    group: str,
    number: str,
    body: TerminationIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangeOut:
    return _terminate(platform, account, group, number, FAX, body)


@router.delete("/telephony/{group}/faxes/{number}/termination", status_code=204)
def cancel_fax_termination(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    return _cancel_termination(platform, account, group, number, FAX)


# --- Service management (/me/services) -----------------------------------------------------------
@router.get(
    "/me/billing-contact-requests",
    response_model=list[BillingContactChangeOut],
    tags=["services"],
    summary="Requests to become the billing contact of another customer's billing group",
)
def billing_contact_requests(
    platform: Platform = Depends(get_platform), account: Account = Depends(current_account)
) -> list[BillingContactChangeOut]:
    with platform.session() as session:
        return [
            contact_change_out(session, change)
            for change in actions.incoming_contact_requests(session, account.id)
        ]


@router.post(
    "/me/billing-contact-requests/{change_id}/{answer}",
    response_model=BillingContactChangeOut,
    tags=["services"],
    summary="Accept (applies at once if you are validated for VoIP, else after your procedure) "
    "or refuse",
)
def answer_billing_contact_request(
    change_id: str,
    answer: Literal["accept", "refuse"],
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> BillingContactChangeOut:
    respond = (
        actions.accept_billing_contact_request
        if answer == "accept"
        else actions.refuse_billing_contact_request
    )
    with platform.transaction() as session:
        return contact_change_out(session, respond(session, platform, account.id, change_id))


@router.get("/me/services", response_model=list[ServiceOut], tags=["services"])
def my_services(
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> list[ServiceOut]:
    with platform.session() as session:
        services = actions.list_account_services(session, account.id)[offset : offset + limit]
        return [service_out(s) for s in services]


@router.patch("/me/services/{service_id}", response_model=ServiceOut, tags=["services"])
def patch_service(
    service_id: str,
    body: ServicePatch,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ServiceOut:
    with platform.transaction() as session:
        if body.renewal_mode is not None:
            actions.set_renewal_mode(session, platform, account.id, service_id, body.renewal_mode)
        if body.cancel_at_expiry is True:
            if body.reason is None:
                from voipdesk.subscriptions.errors import InvalidTerminationReason

                raise InvalidTerminationReason(fields={"reason": "Choose a reason from the list."})
            actions.cancel_at_expiry(
                session, platform, account.id, service_id, body.reason, body.details
            )
        elif body.cancel_at_expiry is False:
            actions.undo_cancel_at_expiry(session, platform, account.id, service_id)
        return service_out(actions.get_account_service(session, account.id, service_id))


@router.post("/me/services/{service_id}/delete-now", status_code=202, tags=["services"])
def ask_delete_now(
    service_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> dict[str, str]:
    with platform.transaction() as session:
        actions.request_delete_now(session, platform, account.id, service_id)
    return {"status": "confirmation-sent"}


@router.post("/me/services/delete-now/{token}", response_model=ServiceOut, tags=["services"])
def confirm_delete_now(
    token: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ServiceOut:
    with platform.transaction() as session:
        return service_out(actions.confirm_delete_now(session, platform, account.id, token))


# --- Back office: hardware returns ---------------------------------------------------------------
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


def loan_out(loan: Any) -> HardwareLoanOut:
    return HardwareLoanOut(
        id=loan.id,
        account_id=loan.account_id,
        billing_group_id=loan.billing_group_id,
        service_id=loan.service_id,
        hardware_code=loan.hardware_code,
        deposit=Money(loan.deposit).as_json(),
        state=loan.state,
        return_due_on=loan.return_due_on,
        received_on=loan.received_on,
        refund_due_on=loan.refund_due_on,
    )


@router.get(
    "/backoffice/hardware-returns", response_model=list[HardwareLoanOut], tags=["back office"]
)
def list_hardware_returns(
    state: str = Query(rules.LOAN_RETURN_OPENED),
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> list[HardwareLoanOut]:
    from sqlalchemy import select

    from voipdesk.subscriptions.models import PhoneLoan

    with platform.session() as session:
        loans = session.scalars(
            select(PhoneLoan)
            .where(PhoneLoan.state == state)
            .order_by(PhoneLoan.return_due_on)
            .limit(500)
        )
        return [loan_out(loan) for loan in loans]


@router.post(
    "/backoffice/hardware-returns/{loan_id}/received",
    response_model=HardwareLoanOut,
    tags=["back office"],
)
def hardware_received(
    loan_id: str,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> HardwareLoanOut:
    with platform.transaction() as session:
        return loan_out(actions.record_hardware_received(session, platform, loan_id, staff.id))
