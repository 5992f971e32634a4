"""The staff's pages around the line: the portabilities (steps, failures), the hardware returns
(received, refused) and the service SMS; refusals and successes show as on the customer's pages
around the line."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select

from voipdesk.accounts.models import Account, ServiceSms
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.phones import actions as phones
from voipdesk.telephony.portability import actions as portability
from voipdesk.telephony.portability import queries as portabilities
from voipdesk.telephony.portability import rules as portability_rules
from voipdesk.web.auth import require_staff
from voipdesk.web.listing import contains, sort_and_page, sort_and_page_query
from voipdesk.web.pages.around_the_line import STATE_LABELS, _labels, _run
from voipdesk.web.rendering import render

router = APIRouter()


# --- Back office ---------------------------------------------------------------------------------
# The sorts of the staff's portabilities ("-key" is descending): the oldest request first (a work
# queue); the step in the order of the timeline.
PORTABILITY_SORTS: dict[str, Any] = {
    "received": lambda p: p.created_at,
    "desired": lambda p: p.desired_date,
    "step": lambda p: (
        (*portability_rules.STEPS, portability_rules.FAILED).index(p.step)
        if p.step in (*portability_rules.STEPS, portability_rules.FAILED)
        else None
    ),
    "reference": lambda p: p.reference,
    "operator": lambda p: p.current_operator.lower(),
}
PORTABILITY_PAGE = 20


def _staff_portabilities_context(
    platform: Platform,
    language: str,
    step: str = "",
    q: str = "",
    sort: str = "",
    cursor: str | None = None,
) -> dict[str, Any]:
    chosen = step if step in portability_rules.ONGOING_STEPS else ""
    text = q.strip()
    with platform.session() as session:
        rows = portabilities.staff_portabilities(session, chosen or None)
        holders = dict(
            session.execute(
                select(Account.id, Account.handle).where(
                    Account.id.in_({p.account_id for p in rows})
                )
            ).all()
        )
    if text:
        wanted = text.lower()
        digits = "".join(c for c in text if c.isdigit())
        rows = [
            p
            for p in rows
            if wanted in p.reference.lower()
            or wanted in holders.get(p.account_id, "").lower()
            or (digits and any(digits in number for number in p.numbers))
        ]
    page = sort_and_page(
        rows, sort, PORTABILITY_SORTS, cursor, size=PORTABILITY_PAGE, default="received"
    )
    next_steps = {
        p.id: [
            to
            for to in (*portability_rules.STEPS, portability_rules.FAILED)
            if portability_rules.can_move(p.step, to)
        ]
        for p in page.rows
    }
    labels = _labels(language)
    return {
        "rows": page.rows,
        "holders": holders,
        "next_steps": next_steps,
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "step": chosen,
        "q": text,
        "filtered": bool(chosen or text),
        "step_options": [("", gettext(language, "All steps in progress"))]
        + [(code, labels["steps"][code]) for code in portability_rules.ONGOING_STEPS],
        "sort_options": [
            ("received", gettext(language, "Received on")),
            ("desired", gettext(language, "Desired date")),
            ("step", gettext(language, "Step")),
            ("reference", gettext(language, "Reference")),
            ("operator", gettext(language, "Current operator")),
        ],
        **labels,
    }


@router.get("/backoffice/portabilities", response_class=HTMLResponse)
def staff_portabilities_page(
    request: Request,
    step: str = "",
    q: str = "",
    sort: str = "",
    cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _staff_portabilities_context(
        platform, request_language(request), step, q, sort, cursor
    )
    return render(request, "backoffice/portabilities.html", context)


@router.post("/backoffice/portabilities/{portability_id}/steps")
def staff_step_page(
    portability_id: str,
    request: Request,
    to: str = Form(""),
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    return _run(
        request,
        platform,
        lambda s: portability.advance(s, platform, portability_id, to, f"staff:{staff.id}"),
        lambda view, lang: gettext(
            lang,
            "The portability %(reference)s is now at the step “%(step)s”.",
            reference=view.reference,
            step=gettext(lang, portability_rules.STEP_LABELS[view.step]),
        ),
        "/backoffice/portabilities",
        lambda: ("backoffice/portabilities.html", _staff_portabilities_context(platform, language)),
    )


@router.post("/backoffice/portabilities/{portability_id}/failure")
def staff_failure_page(
    portability_id: str,
    request: Request,
    reason: str = Form(""),
    details: str = Form(""),
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    return _run(
        request,
        platform,
        lambda s: portability.fail(
            s, platform, portability_id, reason, details, f"staff:{staff.id}"
        ),
        lambda view, lang: gettext(
            lang,
            "The portability %(reference)s is failed: the customer was sent the reason and what to "
            "do (see the service SMS and e-mails).",
            reference=view.reference,
        ),
        "/backoffice/portabilities",
        lambda: ("backoffice/portabilities.html", _staff_portabilities_context(platform, language)),
    )


RETURN_FILTERS = {
    "open": (subscription_rules.LOAN_RETURN_OPENED,),
    "received": (subscription_rules.LOAN_RECEIVED, subscription_rules.LOAN_REFUNDING),
    "refunded": (subscription_rules.LOAN_REFUNDED,),
}


RETURN_SORTS: dict[str, Any] = {
    "due": lambda view: view.return_due_on,
    "model": lambda view: view.model,
    "deposit": lambda view: view.deposit_money.amount,
}


def _returns_context(
    platform: Platform, state: str, sort: str = "", cursor: str | None = None
) -> dict[str, Any]:
    chosen = state if state in RETURN_FILTERS else "open"
    with platform.session() as session:
        rows = phones.staff_returns(session, RETURN_FILTERS[chosen])
    page = sort_and_page(rows, sort, RETURN_SORTS, cursor, default="due")
    return {
        "rows": page.rows,
        "state": chosen,
        "loan_states": STATE_LABELS,
        "money": Money,
        "sort": page.sort,
        "next_cursor": page.next_cursor,
    }


@router.get("/backoffice/phone-returns", response_class=HTMLResponse)
def staff_returns_page(
    request: Request,
    state: str = "open",
    sort: str = "",
    cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _returns_context(platform, state, sort, cursor)
    return render(request, "backoffice/phone_returns.html", context)


@router.post("/backoffice/phone-returns/{phone_id}/receive")
def staff_receive_page(
    phone_id: str,
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _run(
        request,
        platform,
        lambda s: phones.receive(s, platform, phone_id, staff.id),
        lambda view, lang: gettext(
            lang,
            "The phone is received: its deposit is refunded through the payment provider on "
            "%(date)s.",
            date=view.refund_due_on.isoformat() if view.refund_due_on else "—",
        ),
        "/backoffice/phone-returns",
        lambda: ("backoffice/phone_returns.html", _returns_context(platform, "open")),
    )


@router.post("/backoffice/phone-returns/{phone_id}/refuse")
def staff_refuse_page(
    phone_id: str,
    request: Request,
    reason: str = Form(""),
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _run(
        request,
        platform,
        lambda s: phones.refuse(s, platform, phone_id, reason, staff.id),
        lambda view, lang: gettext(
            lang,
            "The return is refused: the deposit is kept and the customer was told why by e-mail.",
        ),
        "/backoffice/phone-returns",
        lambda: ("backoffice/phone_returns.html", _returns_context(platform, "open")),
    )


SMS_STATES = {
    "sent": N_("Sent"),
    "queued": N_("Being sent"),
    "stored": N_("Stored only"),
}
# The sorts of the service SMS ("-key" is descending); the newest first by default.
SMS_SORTS: dict[str, Any] = {
    "date": ServiceSms.created_at,
    "customer": Account.handle,
    "to": ServiceSms.to_number,
    "state": ServiceSms.status,
}


@router.get("/backoffice/sms", response_class=HTMLResponse)
def staff_sms_page(
    request: Request,
    state: str = "",
    q: str = "",
    sort: str = "",
    cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    """The service SMS, newest first; by state, and by customer handle or number (a part of it)."""
    # The account's language too: an SMS is written in it, and its text carries it (`lang`).
    query = select(ServiceSms, Account.handle, Account.language).join(
        Account, Account.id == ServiceSms.account_id
    )
    if state in SMS_STATES:
        query = query.where(ServiceSms.status == state)
    text = q.strip()
    if text:
        query = query.where(
            or_(contains(Account.handle, text), contains(ServiceSms.to_number, text))
        )
    with platform.session() as session:
        ties = (ServiceSms.created_at, ServiceSms.id)
        page = sort_and_page_query(session, query, SMS_SORTS, sort, cursor, ties, 25, "-date")
    language = request_language(request)
    return render(
        request,
        "backoffice/sms.html",
        {
            "rows": page.rows,
            "sort": page.sort,
            "next_cursor": page.next_cursor,
            "state": state if state in SMS_STATES else "",
            "q": text,
            "states": [("", gettext(language, "All states"))]
            + [(code, gettext(language, label)) for code, label in SMS_STATES.items()],
            "gateway": bool(platform.settings.sms_gateway_url),
        },
    )
