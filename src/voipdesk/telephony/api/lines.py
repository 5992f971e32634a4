"""Routes of a line's telephony settings: SIP account and password, forwarding, call settings,
restrictions, options and history. Same use cases as the pages and the star codes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.pagination import PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony.actions import credentials, lines, options
from voipdesk.telephony.api.schemas import (
    CallSettingsIn,
    CallSettingsOut,
    Condition,
    ForwardIn,
    ForwardingOut,
    ForwardOut,
    HistoryEntryOut,
    HistoryPage,
    OptionOrderIn,
    OptionOrderOut,
    OptionOut,
    OptionRemovalOut,
    OptionsOut,
    RestrictionsIn,
    RestrictionsOut,
    SipAccountOut,
    SipPasswordOut,
    money,
    path_number,
)

router = APIRouter()
LINE = "/telephony/{group}/lines/{number}"


def forwarding_out(view: lines.LineView) -> ForwardingOut:
    return ForwardingOut(**{c: ForwardOut(**f) for c, f in view.forwards.items()})


def call_settings_out(view: lines.LineView) -> CallSettingsOut:
    return CallSettingsOut(
        do_not_disturb=view.do_not_disturb,
        reject_anonymous=view.reject_anonymous,
        caller_id=view.caller_id,  # type: ignore[arg-type]
        caller_id_number=view.caller_id_number,
        blocked_callers=view.blocked_callers,
    )


def restrictions_out(view: lines.LineView) -> RestrictionsOut:
    return RestrictionsOut(
        block_outgoing=view.block_outgoing,
        block_international=view.block_international,
        block_premium=view.block_premium,
        number_list_mode=view.number_list_mode,  # type: ignore[arg-type]
        number_list=view.number_list,
        allowed_ips=view.allowed_ips,
    )


# --- SIP account ---------------------------------------------------------------------------------
@router.get(f"{LINE}/sip-account", response_model=SipAccountOut, summary="What a phone needs")
def get_sip_account(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> SipAccountOut:
    with platform.session() as session:
        found = credentials.sip_account(session, platform, account.id, group, path_number(number))
    return SipAccountOut(**found.__dict__)


@router.post(
    f"{LINE}/sip-password",
    response_model=SipPasswordOut,
    summary="A new SIP password, returned once (only its HA1 is kept; the old one stops at once)",
)
def reset_sip_password(
    group: str,
    number: str,
    response: Response,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> SipPasswordOut:
    with platform.transaction() as session:
        made = credentials.reset_sip_password(
            session, platform, account.id, group, path_number(number)
        )
    response.headers["Cache-Control"] = "no-store"
    return SipPasswordOut(**made.account.__dict__, password=made.password)


# --- Forwarding ----------------------------------------------------------------------------------
@router.get(f"{LINE}/forwarding", response_model=ForwardingOut)
def get_forwarding(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ForwardingOut:
    with platform.session() as session:
        return forwarding_out(lines.get_line(session, account.id, group, path_number(number)))


@router.put(
    f"{LINE}/forwarding/{{condition}}",
    response_model=ForwardingOut,
    summary="Turn one forward on (refused: to itself, a loop through the group, a bad number)",
)
def set_forward(
    group: str,
    number: str,
    condition: Condition,
    body: ForwardIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ForwardingOut:
    with platform.transaction() as session:
        view = lines.set_forward(
            session,
            platform,
            account.id,
            group,
            path_number(number),
            condition,
            body.target,
            body.number,
            body.delay,
        )
        return forwarding_out(view)


@router.delete(f"{LINE}/forwarding/{{condition}}", response_model=ForwardingOut)
def delete_forward(
    group: str,
    number: str,
    condition: Condition,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ForwardingOut:
    with platform.transaction() as session:
        view = lines.clear_forward(
            session, platform, account.id, group, path_number(number), condition
        )
        return forwarding_out(view)


# --- Call settings and restrictions --------------------------------------------------------------
@router.get(f"{LINE}/call-settings", response_model=CallSettingsOut)
def get_call_settings(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> CallSettingsOut:
    with platform.session() as session:
        return call_settings_out(lines.get_line(session, account.id, group, path_number(number)))


@router.patch(
    f"{LINE}/call-settings",
    response_model=CallSettingsOut,
    summary="Do-not-disturb, anonymous-call rejection, caller-ID presentation",
)
def update_call_settings(
    group: str,
    number: str,
    body: CallSettingsIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> CallSettingsOut:
    with platform.transaction() as session:
        view = lines.update_settings(
            session,
            platform,
            account.id,
            group,
            path_number(number),
            body.model_dump(exclude_unset=True),
        )
        return call_settings_out(view)


@router.get(f"{LINE}/restrictions", response_model=RestrictionsOut)
def get_restrictions(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> RestrictionsOut:
    with platform.session() as session:
        return restrictions_out(lines.get_line(session, account.id, group, path_number(number)))


@router.patch(
    f"{LINE}/restrictions",
    response_model=RestrictionsOut,
    summary="Outgoing blocks, allow- or block-list, addresses allowed to register",
)
def update_restrictions(
    group: str,
    number: str,
    body: RestrictionsIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> RestrictionsOut:
    with platform.transaction() as session:
        view = lines.update_settings(
            session,
            platform,
            account.id,
            group,
            path_number(number),
            body.model_dump(exclude_unset=True),
        )
        return restrictions_out(view)


# --- Options -------------------------------------------------------------------------------------
@router.get(
    f"{LINE}/options", response_model=OptionsOut, summary="Options the line has or may have"
)
def get_options(
    group: str,
    number: str,
    request: Request,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> OptionsOut:
    with platform.session() as session:
        found = options.list_options(
            session, platform, account.id, group, path_number(number), request_language(request)
        )
    return OptionsOut(
        items=[
            OptionOut(
                code=o.code,
                label=o.label,
                monthly_excl_tax=money(o.monthly_excl_tax),
                on_line=o.on_line,
                ends_at_renewal=o.ends_at_renewal,
            )
            for o in found
        ]
    )


@router.post(
    f"{LINE}/options",
    response_model=OptionOrderOut,
    status_code=201,
    summary="Order an option: answers the purchase order to pay (the line has it once paid)",
)
def add_option(
    group: str,
    number: str,
    body: OptionOrderIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> OptionOrderOut:
    with platform.transaction() as session:
        order = options.order_option(
            session, platform, account.id, group, path_number(number), body.option
        )
    return OptionOrderOut(
        order_id=order.order_id,
        order_number=order.order_number,
        option=order.option,
        prorated_excl_tax=money(order.prorated_excl_tax),
        monthly_excl_tax=money(order.monthly_excl_tax),
        total_incl_tax={"amount": f"{order.total_incl_tax:.2f}", "currency": order.currency},
        message=gettext(
            request_language(request),
            "Purchase order %(order)s made: the line has the option once it is paid.",
            order=order.order_number,
        ),
    )


@router.delete(
    f"{LINE}/options/{{option}}",
    response_model=OptionRemovalOut,
    summary="Remove an option at the next renewal (a pending change, cancellable until then)",
)
def delete_option(
    group: str,
    number: str,
    option: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> OptionRemovalOut:
    with platform.transaction() as session:
        change = options.remove_option(
            session, platform, account.id, group, path_number(number), option
        )
        return OptionRemovalOut(
            pending_change_id=change.id, effective_on=change.effective_on.isoformat()
        )


# --- History -------------------------------------------------------------------------------------
@router.get(f"{LINE}/history", response_model=HistoryPage, summary="Who changed what, and when")
def get_history(
    group: str,
    number: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> HistoryPage:
    with platform.session() as session:
        facts = subscriptions.line_of_account(
            session, account.id, group, path_number(number), lock=False
        )
        entries = subscriptions.history(session, facts.service_id, limit=1000)
    shown, next_cursor = paginate(
        entries, key=lambda e: (e[1].isoformat(), e[0]), page=page, descending=True
    )
    return HistoryPage(
        items=[HistoryEntryOut(at=at, actor=actor, what=what) for _id, at, actor, what in shown],
        next_cursor=next_cursor,
    )
