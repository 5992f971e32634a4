"""Customer-space and back-office pages around the line: a line's "Phone" (Plug & Phone) and
"Assistance" (diagnostics) tabs, a billing group's portabilities and lent phones, and the staff's
portabilities, hardware returns and service SMS.

They call the same use cases as the API; a refusal shows the page again with its translated
reason (nothing changed), a success redirects with a message saying what really happened.

(The module's name sorts before `subscriptions`, whose catch-all POST
`/telephony/{group_id}/{section}/{number}/{operation}` would otherwise take these paths.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from voipdesk.accounts.models import Account, ServiceSms
from voipdesk.catalogue.queries import national_format
from voipdesk.core.errors import DomainError, InvalidInput, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.actions import lines
from voipdesk.telephony.api.schemas import path_number
from voipdesk.telephony.diagnostics import queries as diagnostics
from voipdesk.telephony.phones import actions as phones
from voipdesk.telephony.portability import actions as portability
from voipdesk.telephony.portability import queries as portabilities
from voipdesk.telephony.portability import rules as portability_rules
from voipdesk.web.auth import require_account, require_staff
from voipdesk.web.listing import sort_and_page
from voipdesk.web.rendering import form_errors, redirect, render

router = APIRouter()
LINE = "/telephony/{group_id}/lines/{number}"

STATE_LABELS = {
    subscription_rules.LOAN_LENT: N_("Lent"),
    subscription_rules.LOAN_RETURN_OPENED: N_("Return expected"),
    subscription_rules.LOAN_RECEIVED: N_("Received, deposit refund to come"),
    subscription_rules.LOAN_REFUNDING: N_("Deposit refund in progress"),
    subscription_rules.LOAN_REFUNDED: N_("Deposit refunded"),
}


def _base(group_id: str, number: str) -> str:
    return f"/telephony/{group_id}/lines/{quote(path_number(number))}"


def _tab_context(
    platform: Platform, account: Account, group_id: str, number: str
) -> dict[str, Any]:
    e164 = path_number(number)
    with platform.session() as session:
        view = lines.get_line(session, account.id, group_id, e164)
    return {
        "line": view,
        "number": e164,
        "national": national_format(e164),
        "group_id": group_id,
        "base": _base(group_id, e164),
        "national_format": national_format,
        "loan_states": STATE_LABELS,
    }


def _run(
    request: Request,
    platform: Platform,
    action: Callable[[Any], Any],
    success: Callable[[Any, str], str],
    back: str,
    again: Callable[[], tuple[str, dict[str, Any]]],
) -> Response:
    """One use case in one transaction: a redirect with what happened, or the page again with
    the refusal (nothing stored)."""
    language = request_language(request)
    try:
        with platform.transaction() as session:
            result = action(session)
    except DomainError as error:
        if isinstance(error, NotFound) and error.status == 404 and not error.fields:
            raise
        template, context = again()
        context["error"] = error.detail(language)
        context["error_fields"] = form_errors(error, language)
        return render(request, template, context, status=error.status)
    return redirect(request, back, success(result, language))


# --- A line's Plug & Phone -----------------------------------------------------------------------
def _phone_context(
    platform: Platform, account: Account, group_id: str, number: str
) -> dict[str, Any]:
    context = _tab_context(platform, account, group_id, number)
    with platform.session() as session:
        attached, free = phones.line_phone(session, account.id, group_id, context["number"])
    context.update({"phone": attached, "free_phones": free, "tab": "phone"})
    context["base_url"] = platform.settings.base_url.rstrip("/")
    return context


@router.get(f"{LINE}/phone", response_class=HTMLResponse)
def phone_page(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return render(
        request, "telephony/phone.html", _phone_context(platform, account, group_id, number)
    )


@router.post(f"{LINE}/phone")
def attach_phone_page(
    group_id: str,
    number: str,
    request: Request,
    mac: str = Form(""),
    phone_id: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    e164 = path_number(number)
    return _run(
        request,
        platform,
        lambda s: phones.attach(
            s, platform, account.id, group_id, e164, mac, f"account:{account.id}",
            loan_id=phone_id or None,
        ),
        lambda view, lang: gettext(
            lang,
            "The phone %(mac)s is attached to this line: it gets its configuration when it "
            "starts.",
            mac=view.mac,
        ),
        f"{_base(group_id, e164)}/phone",
        lambda: ("telephony/phone.html", _phone_context(platform, account, group_id, number)),
    )  # fmt: skip


@router.post(f"{LINE}/phone/detach")
def detach_phone_page(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    e164 = path_number(number)
    return _run(
        request,
        platform,
        lambda s: phones.detach(s, platform, account.id, group_id, e164, f"account:{account.id}"),
        lambda view, lang: gettext(
            lang,
            "The phone is detached: it stays lent to the billing group, attached to no line.",
        ),
        f"{_base(group_id, e164)}/phone",
        lambda: ("telephony/phone.html", _phone_context(platform, account, group_id, number)),
    )


# --- A line's diagnostics ------------------------------------------------------------------------
@router.get(f"{LINE}/diagnostics", response_class=HTMLResponse)
def diagnostics_page(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    context = _tab_context(platform, account, group_id, number)
    with platform.session() as session:
        found = diagnostics.diagnose_line(
            session, platform, account.id, group_id, context["number"]
        )
    timezone = platform.settings.timezone
    context.update(
        {
            "tab": "diagnostics",
            "diagnostics": found,
            "findings": [diagnostics.present(f, language, timezone) for f in found.findings],
        }
    )
    return render(request, "telephony/diagnostics.html", context)


# --- A group's lent phones and their returns -----------------------------------------------------
def _phones_context(platform: Platform, account: Account, group_id: str) -> dict[str, Any]:
    with platform.session() as session:
        group_phones = phones.group_phones(session, account.id, group_id)
    return {
        "group_id": group_id,
        "phones": group_phones,
        "loan_states": STATE_LABELS,
        "money": Money,
        "address": platform.settings.operator_postal_address,
    }


@router.get("/telephony/{group_id}/phones", response_class=HTMLResponse)
def group_phones_page(
    group_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return render(request, "telephony/phones.html", _phones_context(platform, account, group_id))


@router.post("/telephony/{group_id}/phones/{phone_id}/return")
def return_phone_page(
    group_id: str,
    phone_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _run(
        request,
        platform,
        lambda s: phones.request_return(
            s, platform, account.id, group_id, phone_id, f"account:{account.id}"
        ),
        lambda view, lang: gettext(
            lang,
            "The return is open: send the phone by %(date)s to the address in the e-mail we just "
            "sent you.",
            date=view.return_due_on.isoformat() if view.return_due_on else "—",
        ),
        f"/telephony/{group_id}/phones",
        lambda: ("telephony/phones.html", _phones_context(platform, account, group_id)),
    )


# --- A group's portabilities ---------------------------------------------------------------------
def _labels(language: str) -> dict[str, Any]:
    def _(text: str) -> str:
        return gettext(language, text)

    return {
        "steps": {code: _(label) for code, label in portability_rules.STEP_LABELS.items()},
        "countries": [("FR", _("France")), ("BE", _("Belgium")), ("CH", _("Switzerland"))],
        "holder_kinds": [("individual", _("Individual")), ("company", _("Company"))],
        "timeline": portability_rules.STEPS,
        "reasons": [(r.code, _(r.label)) for r in portability_rules.FAILURE_REASONS.values()],
        "failure_reasons": portability_rules.FAILURE_REASONS,
    }


def _portabilities_context(
    platform: Platform, account: Account, group_id: str, language: str
) -> dict[str, Any]:
    from voipdesk.subscriptions import queries as subscriptions

    with platform.session() as session:
        rows = portabilities.group_portabilities(session, account.id, group_id)
        group_lines = [
            s.number
            for s in subscriptions.group_services(session, group_id, subscription_rules.LINE_KINDS)
        ]
    return {
        "group_id": group_id,
        "ongoing": [p for p in rows if p.ongoing],
        "finished": [p for p in rows if not p.ongoing],
        "line_choices": [(n, national_format(n)) for n in group_lines],
        "form": {},
        "earliest": portability_rules.earliest_date(platform.today(), "FR"),
        **_labels(language),
    }


@router.get("/telephony/{group_id}/portabilities", response_class=HTMLResponse)
def portabilities_page(
    group_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _portabilities_context(platform, account, group_id, request_language(request))
    return render(request, "telephony/portabilities.html", context)


def _date(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "%(value)s is not a date.", value=text[:20], fields={field: "A date: YYYY-MM-DD."}
        ) from None


@router.post("/telephony/{group_id}/portabilities")
def request_portability_page(
    group_id: str,
    request: Request,
    country: str = Form("FR"),
    numbers: str = Form(""),
    current_operator: str = Form(""),
    rio: str = Form(""),
    donor_reference: str = Form(""),
    holder_kind: str = Form("individual"),
    holder_name: str = Form(""),
    registration_number: str = Form(""),
    desired_date: str = Form(""),
    destination_line: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    typed = [n.strip() for n in numbers.replace(",", "\n").splitlines() if n.strip()]

    def make(session: Any) -> portability.PortabilityView:
        return portability.request_portability(
            session,
            platform,
            account.id,
            group_id,
            portability.PortabilityRequest(
                country=country,
                numbers=typed,
                current_operator=current_operator,
                holder_kind=holder_kind,
                holder_name=holder_name,
                rio=rio or None,
                donor_reference=donor_reference or None,
                registration_number=registration_number or None,
                desired_date=_date(desired_date, "desired_date"),
                destination_line=destination_line or None,
            ),
            f"account:{account.id}",
        )

    def again() -> tuple[str, dict[str, Any]]:
        context = _portabilities_context(platform, account, group_id, language)
        context["form"] = {
            "country": country, "numbers": numbers, "current_operator": current_operator,
            "rio": rio, "donor_reference": donor_reference, "holder_kind": holder_kind,
            "holder_name": holder_name, "registration_number": registration_number,
            "desired_date": desired_date, "destination_line": destination_line,
        }  # fmt: skip
        return "telephony/portabilities.html", context

    return _run(
        request,
        platform,
        make,
        lambda view, lang: gettext(
            lang,
            "The portability %(reference)s is requested: we e-mailed you its summary; follow its "
            "steps here.",
            reference=view.reference,
        ),
        f"/telephony/{group_id}/portabilities",
        again,
    )


def _portability_context(
    platform: Platform, account: Account, group_id: str, portability_id: str, language: str
) -> dict[str, Any]:
    with platform.session() as session:
        view = portabilities.portability(session, account.id, group_id, portability_id)
    return {"group_id": group_id, "p": view, **_labels(language)}


@router.get("/telephony/{group_id}/portabilities/{portability_id}", response_class=HTMLResponse)
def portability_page(
    group_id: str,
    portability_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _portability_context(
        platform, account, group_id, portability_id, request_language(request)
    )
    return render(request, "telephony/portability.html", context)


@router.post("/telephony/{group_id}/portabilities/{portability_id}/cancel")
def cancel_portability_page(
    group_id: str,
    portability_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    return _run(
        request,
        platform,
        lambda s: portability.cancel(
            s, platform, account.id, group_id, portability_id, f"account:{account.id}"
        ),
        lambda view, lang: gettext(
            lang, "The portability %(reference)s is cancelled.", reference=view.reference
        ),
        f"/telephony/{group_id}/portabilities/{portability_id}",
        lambda: (
            "telephony/portability.html",
            _portability_context(platform, account, group_id, portability_id, language),
        ),
    )


@router.post("/telephony/{group_id}/portabilities/{portability_id}/date")
def change_portability_date_page(
    group_id: str,
    portability_id: str,
    request: Request,
    desired_date: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    return _run(
        request,
        platform,
        lambda s: portability.change_date(
            s, platform, account.id, group_id, portability_id,
            _date(desired_date, "desired_date"), f"account:{account.id}",
        ),
        lambda view, lang: gettext(
            lang, "The desired date is now %(date)s.",
            date=view.desired_date.isoformat() if view.desired_date
            else gettext(lang, "as soon as possible"),
        ),
        f"/telephony/{group_id}/portabilities/{portability_id}",
        lambda: (
            "telephony/portability.html",
            _portability_context(platform, account, group_id, portability_id, language),
        ),
    )  # fmt: skip


# --- Back office ---------------------------------------------------------------------------------
def _staff_portabilities_context(platform: Platform, language: str) -> dict[str, Any]:
    with platform.session() as session:
        rows = portabilities.staff_portabilities(session)
        holders = dict(
            session.execute(
                select(Account.id, Account.handle).where(
                    Account.id.in_({p.account_id for p in rows})
                )
            ).all()
        )
    next_steps = {
        p.id: [
            to
            for to in (*portability_rules.STEPS, portability_rules.FAILED)
            if portability_rules.can_move(p.step, to)
        ]
        for p in rows
    }
    return {
        "rows": rows,
        "holders": holders,
        "next_steps": next_steps,
        **_labels(language),
    }


@router.get("/backoffice/portabilities", response_class=HTMLResponse)
def staff_portabilities_page(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _staff_portabilities_context(platform, request_language(request))
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


@router.get("/backoffice/sms", response_class=HTMLResponse)
def staff_sms_page(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        rows = session.scalars(
            select(ServiceSms).order_by(ServiceSms.created_at.desc()).limit(200)
        ).all()
        holders = dict(
            session.execute(
                select(Account.id, Account.handle).where(
                    Account.id.in_({r.account_id for r in rows})
                )
            ).all()
        )
    return render(
        request,
        "backoffice/sms.html",
        {"rows": rows, "holders": holders, "gateway": bool(platform.settings.sms_gateway_url)},
    )
