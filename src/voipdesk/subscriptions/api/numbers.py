"""Routes of alias numbers and fax lines."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.pagination import PageParams, page_params
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.api.common import (
    ALIAS,
    FAX,
    PREFIX_QUERY,
    LiveState,
    _cancel_termination,
    _number,
    _one,
    _services,
    _terminate,
    change_out,
)
from voipdesk.subscriptions.api.schemas import (
    AliasConversionIn,
    AliasNumberPage,
    FaxLinePage,
    PendingChangeOut,
    ServiceOut,
    TerminationIn,
)
from voipdesk.subscriptions.models import (
    Service,
)

router = APIRouter()


@router.get(
    "/telephony/{group}/numbers", response_model=AliasNumberPage, summary="Alias numbers, by number"
)
async def list_numbers(
    group: str,
    state: LiveState | None = Query(None, description="active, to_renew or suspended"),
    prefix: str | None = PREFIX_QUERY,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AliasNumberPage:
    items, next_cursor = await _services(platform, account, group, ALIAS, page, state, prefix)
    return AliasNumberPage(items=items, next_cursor=next_cursor)


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
@router.get("/telephony/{group}/faxes", response_model=FaxLinePage, summary="Fax lines, by number")
async def list_faxes(
    group: str,
    state: LiveState | None = Query(None, description="active, to_renew or suspended"),
    prefix: str | None = PREFIX_QUERY,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> FaxLinePage:
    items, next_cursor = await _services(platform, account, group, FAX, page, state, prefix)
    return FaxLinePage(items=items, next_cursor=next_cursor)


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
