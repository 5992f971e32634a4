"""Customer-space and back-office pages around the line: a line's "Phone" (Plug & Phone) and
"Assistance" (diagnostics) tabs, a billing group's portabilities and lent phones (the staff's side
is in `around_the_line_backoffice`).

They call the same use cases as the API; a refusal shows the page again with its translated
reason (nothing changed), a success redirects with a message saying what really happened.

(The module's name sorts before `subscriptions`, whose catch-all POST
`/telephony/{group_id}/{section}/{number}/{operation}` would otherwise take these paths.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.catalogue.queries import national_format
from voipdesk.core.errors import InvalidInput, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.actions import lines
from voipdesk.telephony.aliases import queries as alias_queries
from voipdesk.telephony.aliases import rules as alias_rules
from voipdesk.telephony.api.schemas import path_number
from voipdesk.telephony.diagnostics import queries as diagnostics
from voipdesk.telephony.phones import actions as phones
from voipdesk.telephony.portability import actions as portability
from voipdesk.telephony.portability import queries as portabilities
from voipdesk.telephony.portability import rules as portability_rules
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import redirect, render, run_use_case

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
    return run_use_case(
        request,
        platform,
        action,
        lambda result, language: redirect(request, back, success(result, language)),
        lambda _error, _language: again(),
        lambda error: isinstance(error, NotFound) and error.status == 404 and not error.fields,
    )


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
def _phones_context(
    platform: Platform, account: Account, group_id: str, query: Mapping[str, str] | None = None
) -> dict[str, Any]:
    from voipdesk.web.pages.around_the_line_lists import listed_phones

    with platform.session() as session:
        group_phones = phones.group_phones(session, account.id, group_id)
    return {
        "group_id": group_id,
        **listed_phones(group_phones, query),
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
    return render(
        request,
        "telephony/phones.html",
        _phones_context(platform, account, group_id, request.query_params),
    )


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
    platform: Platform,
    account: Account,
    group_id: str,
    language: str,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    from voipdesk.subscriptions import queries as subscriptions
    from voipdesk.web.pages.around_the_line_lists import listed_portabilities

    with platform.session() as session:
        rows = portabilities.group_portabilities(session, account.id, group_id)
        group_lines = [
            s.number
            for s in subscriptions.group_services(session, group_id, subscription_rules.LINE_KINDS)
        ]
        configured = alias_queries.group_configuration_types(session, group_id)
    line_choices = [
        (f"line:{n}", gettext(language, "Ring the line %(number)s", number=national_format(n)))
        for n in group_lines
    ]
    configuration_choices = [
        (
            f"configuration:{n}",
            gettext(
                language,
                "Same configuration as %(number)s (%(type)s)",
                number=national_format(n),
                type=gettext(language, alias_rules.TYPE_LABELS.get(kind, kind)),
            ),
        )
        for n, kind in sorted(configured.items())
        if kind != alias_rules.NONE
    ]
    return {
        "group_id": group_id,
        **listed_portabilities(rows, query),
        "destination_choices": line_choices + configuration_choices,
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
    context = _portabilities_context(
        platform, account, group_id, request_language(request), request.query_params
    )
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
    destination: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    typed = [n.strip() for n in numbers.replace(",", "\n").splitlines() if n.strip()]
    # one choice on the page: "line:<number>" rings a line, "configuration:<number>" copies an
    # alias number's configuration
    chosen, _, destination_number = destination.partition(":")

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
                destination_line=destination_number if chosen == "line" else None,
                destination_configuration=(
                    destination_number if chosen == "configuration" else None
                ),
            ),
            f"account:{account.id}",
        )

    def again() -> tuple[str, dict[str, Any]]:
        context = _portabilities_context(platform, account, group_id, language)
        context["form"] = {
            "country": country, "numbers": numbers, "current_operator": current_operator,
            "rio": rio, "donor_reference": donor_reference, "holder_kind": holder_kind,
            "holder_name": holder_name, "registration_number": registration_number,
            "desired_date": desired_date, "destination": destination,
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
