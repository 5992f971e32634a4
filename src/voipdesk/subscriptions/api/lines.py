"""Routes of lines: offers, simultaneous calls, conversion to an alias number, termination."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.money import Money
from voipdesk.core.pagination import PageParams, page_params
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.api.common import (
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
    AvailableOffersOut,
    CallsIn,
    LinePage,
    OfferChangeIn,
    OfferChangesIn,
    PendingChangeOut,
    ServiceOut,
    SimultaneousCallsOut,
    TerminationIn,
)
from voipdesk.subscriptions.models import (
    PendingChange,
    Service,
)

router = APIRouter()


# --- Lines ---------------------------------------------------------------------------------------
@router.get("/telephony/{group}/lines", response_model=LinePage, summary="Lines, by number")
async def list_lines(
    group: str,
    state: LiveState | None = Query(None, description="active, to_renew or suspended"),
    prefix: str | None = PREFIX_QUERY,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> LinePage:
    items, next_cursor = await _services(
        platform, account, group, rules.LINE_KINDS, page, state, prefix
    )
    return LinePage(items=items, next_cursor=next_cursor)


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


def _calls_out(line: Service) -> SimultaneousCallsOut:
    from voipdesk.catalogue import rules as catalogue_rules

    calls_range = catalogue_rules.simultaneous_calls_range(line.offer_code)
    return SimultaneousCallsOut(
        number=line.number_e164 or "",
        simultaneous_calls=line.simultaneous_calls,
        minimum=calls_range.minimum if calls_range else 1,
        maximum=calls_range.maximum if calls_range else 1,
        adjustable=bool(calls_range and calls_range.adjustable),
        extra_call_monthly_excl_tax=Money(rules.EXTRA_CALL_MONTHLY_PRICE).as_json(),
    )


@router.get(
    "/telephony/{group}/lines/{number}/simultaneous-calls", response_model=SimultaneousCallsOut
)
def get_calls(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> SimultaneousCallsOut:
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


@router.put(
    "/telephony/{group}/lines/{number}/simultaneous-calls", response_model=SimultaneousCallsOut
)
def set_calls(
    group: str,
    number: str,
    body: CallsIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> SimultaneousCallsOut:
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
