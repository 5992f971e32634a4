"""Routes of service management (/me/services) and billing-contact requests."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.pagination import PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.api.common import (
    PREFIX_QUERY,
    contact_change_out,
    prefix_filter,
    service_out,
)
from voipdesk.subscriptions.api.schemas import (
    BillingContactChangeOut,
    BillingContactRequestPage,
    ServiceOut,
    ServicePage,
    ServicePatch,
)

router = APIRouter()


# --- Service management (/me/services) -----------------------------------------------------------
@router.get(
    "/me/billing-contact-requests",
    response_model=BillingContactRequestPage,
    tags=["services"],
    summary="Requests to become the billing contact of another customer's billing group",
)
def billing_contact_requests(
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> BillingContactRequestPage:
    with platform.session() as session:
        changes, next_cursor = paginate(
            actions.incoming_contact_requests(session, account.id),
            key=lambda c: (c.requested_at, c.id),
            page=page,
        )
        return BillingContactRequestPage(
            items=[contact_change_out(session, change) for change in changes],
            next_cursor=next_cursor,
        )


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


KIND_FILTERS: dict[str, tuple[str, ...]] = {
    "line": rules.LINE_KINDS,
    "number": (rules.KIND_ALIAS_NUMBER,),
    "fax": (rules.KIND_FAX_LINE,),
    "option": (rules.KIND_OPTION,),
}


@router.get(
    "/me/services",
    response_model=ServicePage,
    tags=["services"],
    summary="Every service of the caller (deleted ones aside), by billing group and number",
)
def my_services(
    state: Literal["active", "to_renew", "suspended", "terminated"] | None = Query(None),
    kind: Literal["line", "number", "fax", "option"] | None = Query(None),
    prefix: str | None = PREFIX_QUERY,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ServicePage:
    with platform.session() as session:
        wanted = prefix_filter(account, prefix)
        kinds = KIND_FILTERS[kind] if kind else None
        rows = [
            s
            for s in actions.list_account_services(session, account.id)
            if (state is None or s.state == state)
            and (kinds is None or s.kind in kinds)
            and (wanted is None or (s.number_e164 or "").startswith(wanted))
        ]
        services, next_cursor = paginate(
            rows, key=lambda s: (s.billing_group_id, s.number_e164 or "", s.id), page=page
        )
        return ServicePage(items=[service_out(s) for s in services], next_cursor=next_cursor)


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
