"""Routes of billing groups and their pending changes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.pagination import PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions
from voipdesk.subscriptions.api.common import (
    change_out,
    group_out,
)
from voipdesk.subscriptions.api.schemas import (
    BillingGroupPage,
    GroupOut,
    GroupPatch,
    PendingChangeOut,
    PendingChangePage,
    TerminationIn,
)
from voipdesk.subscriptions.models import (
    Service,
)

router = APIRouter()


# --- Billing groups ------------------------------------------------------------------------------
@router.get("/telephony", response_model=BillingGroupPage, summary="Billing groups, oldest first")
def list_groups(
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> BillingGroupPage:
    with platform.session() as session:
        groups, next_cursor = paginate(
            actions.list_groups(session, account.id), key=lambda g: (g.created_at, g.id), page=page
        )
        return BillingGroupPage(
            items=[group_out(session, g) for g in groups], next_cursor=next_cursor
        )


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


@router.get(
    "/telephony/{group}/pending-changes",
    response_model=PendingChangePage,
    summary="Changes that take effect later, oldest request first",
)
def list_pending_changes(
    group: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PendingChangePage:
    with platform.session() as session:
        actions.get_group(session, account.id, group)
        changes, next_cursor = paginate(
            actions.pending_changes(session, group),
            key=lambda c: (c.requested_at, c.id),
            page=page,
        )
        out = []
        for change in changes:
            service = session.get(Service, change.service_id) if change.service_id else None
            out.append(change_out(change, service))
        return PendingChangePage(items=out, next_cursor=next_cursor)


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
