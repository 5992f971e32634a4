"""REST API of Plug & Phone: a line's phone, the group's lent phones and their returns, the back
office's returns, and the phones' own provisioning route `GET /provisioning/{mac}.cfg` (outside
/api/v1: phones ask it at boot)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from voipdesk.accounts.api_auth import current_account, current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.money import Money
from voipdesk.core.pagination import Page, PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.api.schemas import path_number
from voipdesk.telephony.phones import actions

router = APIRouter(tags=["telephony"])
# Mounted at the root by the web layer (voipdesk.web.pages.provisioning), not under /api/v1.
provisioning_router = APIRouter()


class PhoneOut(BaseModel):
    id: str = Field(description="the loan's id")
    model: str
    hardware_code: str
    mac: str | None
    line: str | None
    deposit: dict[str, str]
    state: str = Field(description="lent | return_opened | received | refunding | refunded")
    lent_at: datetime
    return_due_on: date | None
    return_notified_at: datetime | None
    return_refused_reason: str | None
    received_on: date | None
    refund_due_on: date | None
    refunded_at: datetime | None
    provisioning_url: str | None
    last_provisioned_at: datetime | None


class LinePhoneOut(BaseModel):
    phone: PhoneOut | None
    available: list[PhoneOut] = Field(description="the group's lent phones attached to no line")


class AttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mac: str = Field(max_length=40, examples=["00:15:65:12:34:56"])
    phone_id: str | None = Field(None, max_length=32, description="which lent phone, if several")


class PhonePage(Page[PhoneOut]):
    pass


class RefuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


def phone_out(view: actions.PhoneView, base_url: str) -> PhoneOut:
    path = view.provisioning_path
    return PhoneOut(
        id=view.loan_id,
        model=view.model,
        hardware_code=view.hardware_code,
        mac=view.mac,
        line=view.line,
        deposit=Money(view.deposit).as_json(),
        state=view.state,
        lent_at=view.lent_at,
        return_due_on=view.return_due_on,
        return_notified_at=view.return_notified_at,
        return_refused_reason=view.return_refused_reason,
        received_on=view.received_on,
        refund_due_on=view.refund_due_on,
        refunded_at=view.refunded_at,
        provisioning_url=f"{base_url.rstrip('/')}{path}" if path else None,
        last_provisioned_at=view.last_provisioned_at,
    )


LINE = "/telephony/{group}/lines/{number}/phone"


def _line_out(platform: Platform, account: Account, group: str, number: str) -> LinePhoneOut:
    with platform.session() as session:
        attached, free = actions.line_phone(session, account.id, group, path_number(number))
    base = platform.settings.base_url
    return LinePhoneOut(
        phone=phone_out(attached, base) if attached else None,
        available=[phone_out(p, base) for p in free],
    )


@router.get(LINE, response_model=LinePhoneOut)
def get_line_phone(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> LinePhoneOut:
    """The Plug & Phone attached to the line, and those of the group free to attach."""
    return _line_out(platform, account, group, number)


@router.put(LINE, response_model=LinePhoneOut)
def set_line_phone(
    group: str,
    number: str,
    body: AttachIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> LinePhoneOut:
    """Attaches a lent phone of the group to this line by its MAC (moved from another line of
    the group if it was on one). Refused: a malformed MAC, one attached elsewhere, a line that
    already has another phone, no lent phone free."""
    with platform.transaction() as session:
        actions.attach(
            session,
            platform,
            account.id,
            group,
            path_number(number),
            body.mac,
            f"account:{account.id}",
            loan_id=body.phone_id,
        )
    return _line_out(platform, account, group, number)


@router.delete(LINE, response_model=LinePhoneOut)
def remove_line_phone(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> LinePhoneOut:
    """The phone stays lent to the group, attached to no line (its provisioning file is then
    refused)."""
    with platform.transaction() as session:
        actions.detach(
            session, platform, account.id, group, path_number(number), f"account:{account.id}"
        )
    return _line_out(platform, account, group, number)


@router.get("/telephony/{group}/phones", response_model=PhonePage)
def list_group_phones(
    group: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PhonePage:
    """Every phone lent to the group, with its return and deposit refund when it goes back."""
    with platform.session() as session:
        phones = actions.group_phones(session, account.id, group)
    shown, next_cursor = paginate(
        phones, key=lambda p: (p.lent_at.isoformat(), p.loan_id), page=page
    )
    base = platform.settings.base_url
    return PhonePage(items=[phone_out(p, base) for p in shown], next_cursor=next_cursor)


@router.post("/telephony/{group}/phones/{phone_id}/return", response_model=PhoneOut)
def request_phone_return(
    group: str,
    phone_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> PhoneOut:
    """Sends the phone back: an e-mail gives the return address and the 15-day deadline; the
    deposit is refunded 10 days after it is received."""
    with platform.transaction() as session:
        view = actions.request_return(
            session, platform, account.id, group, phone_id, f"account:{account.id}"
        )
    return phone_out(view, platform.settings.base_url)


# --- Back office ---------------------------------------------------------------------------------
RETURN_STATES = {
    "open": (subscription_rules.LOAN_RETURN_OPENED,),
    "received": (subscription_rules.LOAN_RECEIVED, subscription_rules.LOAN_REFUNDING),
    "refunded": (subscription_rules.LOAN_REFUNDED,),
}


@router.get("/backoffice/phone-returns", response_model=PhonePage, tags=["back office"])
def list_phone_returns(
    state: str = "open",
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> PhonePage:
    """Returns waiting (`open`), received (deposit refund to come) or `refunded`."""
    with platform.session() as session:
        phones = actions.staff_returns(session, RETURN_STATES.get(state, RETURN_STATES["open"]))
    shown, next_cursor = paginate(
        phones, key=lambda p: (str(p.return_due_on), p.loan_id), page=page
    )
    base = platform.settings.base_url
    return PhonePage(items=[phone_out(p, base) for p in shown], next_cursor=next_cursor)


@router.post(
    "/backoffice/phone-returns/{phone_id}/receive", response_model=PhoneOut, tags=["back office"]
)
def receive_phone_return(
    phone_id: str,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> PhoneOut:
    with platform.transaction() as session:
        view = actions.receive(session, platform, phone_id, staff.id)
    return phone_out(view, platform.settings.base_url)


@router.post(
    "/backoffice/phone-returns/{phone_id}/refuse", response_model=PhoneOut, tags=["back office"]
)
def reject_phone_return(
    phone_id: str,
    body: RefuseIn,
    platform: Platform = Depends(get_platform),
    staff: Account = Depends(current_staff),
) -> PhoneOut:
    """What came back is not accepted: the deposit is kept, the customer told why by e-mail."""
    with platform.transaction() as session:
        view = actions.refuse(session, platform, phone_id, body.reason, staff.id)
    return phone_out(view, platform.settings.base_url)


# --- The phones' own route -----------------------------------------------------------------------
@provisioning_router.get("/provisioning/{mac}.cfg", include_in_schema=False)
def provisioning_file(
    mac: str, request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    """Only the phone lent with that MAC (its User-Agent names it) gets a file; any other answer
    is the same plain 404."""
    with platform.transaction() as session:
        text = actions.provisioning_file(session, platform, mac, request.headers.get("user-agent"))
    if text is None:
        return Response("Not found\n", status_code=404, media_type="text/plain")
    return Response(
        text, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"}
    )
