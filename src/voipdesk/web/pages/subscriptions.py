"""Customer-space pages for billing groups, lines, numbers, fax lines and service management.

They call the same actions as the API (`voipdesk.subscriptions.actions`); a refusal shows the page
again with its translated reason, nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from voipdesk.accounts.models import Account
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.catalogue.rules import currency_of
from voipdesk.core.errors import DomainError, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, format_date, gettext, ngettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.models import BillingGroup, PhoneLoan
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import phone, redirect, render, run_use_case

router = APIRouter()

KIND_LABELS = {
    rules.KIND_SIP_LINE: "SIP line",
    rules.KIND_SIP_TRUNK: "SIP trunk",
    rules.KIND_ALIAS_NUMBER: "Alias number",
    rules.KIND_FAX_LINE: "Fax line",
    rules.KIND_OPTION: "Option",
}
SECTIONS = {
    "lines": rules.LINE_KINDS,
    "numbers": (rules.KIND_ALIAS_NUMBER,),
    "faxes": (rules.KIND_FAX_LINE,),
}


def _with_tax(amount: Money, country: str, platform: Platform) -> Money:
    """The amount incl. tax for the account's country today (pages show both)."""
    from voipdesk.core.money import round_cents

    try:
        rate = catalogue_rules.total_tax_rate(country, platform.today())
    except DomainError:
        return amount
    return Money(amount.amount + round_cents(amount.amount * rate), amount.currency)


def _service_row(
    service: Any, changes: list[Any], language: str, country: str = "FR", platform: Any = None
) -> dict[str, Any]:
    section = next((name for name, kinds in SECTIONS.items() if service.kind in kinds), None)
    monthly = Money(service.monthly_price_excl_tax, currency_of(country))
    return {
        "offer_code": service.offer_code,
        "pool_id": service.pool_id,
        "group_id": service.billing_group_id,
        "monthly_incl": _with_tax(monthly, country, platform) if platform else None,
        "calls_text": ngettext(
            language,
            "%(count)s simultaneous call",
            "%(count)s simultaneous calls",
            service.simultaneous_calls or 0,
        )
        if service.simultaneous_calls
        else None,
        "id": service.id,
        "kind": service.kind,
        "kind_label": gettext(language, KIND_LABELS.get(service.kind, service.kind)),
        "number": service.number_e164,
        "offer": actions.OFFER_LABELS.get(service.offer_code, service.offer_code),
        "calls": service.simultaneous_calls,
        "pool": service.pool_id is not None,
        "monthly": Money(service.monthly_price_excl_tax, currency_of(country)),
        "state": service.state,
        "state_label": gettext(language, rules.STATE_LABELS.get(service.state, service.state)),
        "renewal_mode": service.renewal_mode,
        "expiry_on": service.expiry_on,
        "cancel_at_expiry": service.cancel_at_expiry,
        "section": section,
        "changes": [
            {**_change_row(c, language), "number": service.number_e164 if c.service_id else None}
            for c in changes
            if c.service_id == service.id
            or (c.service_id is None and c.billing_group_id == service.billing_group_id)
        ],
    }


def _change_row(change: Any, language: str) -> dict[str, Any]:
    return {
        "id": change.id,
        "kind": change.kind,
        "label": gettext(language, rules.CHANGE_LABELS.get(change.kind, change.kind)),
        "effective_on": change.effective_on,
        "new_offer": actions.OFFER_LABELS.get(change.new_offer_code or "", change.new_offer_code),
        "new_calls": change.new_simultaneous_calls,
    }


def _group_context(
    platform: Platform,
    account: Account,
    group_id: str,
    language: str,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    from voipdesk.web.pages.group_lists import listed_group_services

    with platform.session() as session:
        group = actions.get_group(session, account.id, group_id)
        changes = actions.pending_changes(session, group.id)
        services = actions.group_services(session, group.id)
        by_id = {s.id: s for s in services}
        waiting = actions.waiting_contact_change(session, group.id)
        waiting_for = session.get(Account, waiting.to_account_id) if waiting else None
        rows = [
            _service_row(s, changes, language, account.country, platform)
            for s in services
            if s.kind != rules.KIND_OPTION
        ]
        return {
            "group": group,
            "billing_contact": session.get(Account, group.billing_account_id),
            "contact_change": waiting,
            "contact_change_to": waiting_for,
            **listed_group_services(rows, query),
            "changes": [
                {
                    **_change_row(c, language),
                    "number": by_id[c.service_id].number_e164 if c.service_id in by_id else None,
                }
                for c in changes
            ],
            "reasons": [
                (code, gettext(language, label))
                for code, label in rules.TERMINATION_REASONS.items()
            ],
            "ongoing_portabilities": _ongoing_portabilities(session, account.id, group.id),
            "portability_steps": _portability_steps(),
        }


def _portability_steps() -> dict[str, str]:
    from voipdesk.telephony.portability.rules import STEP_LABELS

    return dict(STEP_LABELS)


def _ongoing_portabilities(session: Any, account_id: str, group_id: str) -> list[Any]:
    from voipdesk.telephony.portability.queries import group_portabilities

    return group_portabilities(session, account_id, group_id, ongoing_only=True)


def _act(
    request: Request,
    platform: Platform,
    account: Account,
    group_id: str,
    action: Callable[[Any], Any],
    success: str | Callable[[Any, Any, str], tuple[str, str | None]],
    back: str,
    template: str = "subscriptions/group.html",
    extra: Callable[[], dict[str, Any]] | None = None,
) -> Response:
    """Runs the action; `success` is the message, or gives (message, page) from what the action
    returned, so that the message says what really happened and where to go on."""
    language = request_language(request)

    def step(session: Any) -> tuple[str, str | None]:
        result = action(session)
        if callable(success):
            return success(result, session, language)
        return gettext(language, success), None

    def again(error: DomainError, language: str) -> tuple[str, dict[str, Any]]:
        context = extra() if extra else _group_context(platform, account, group_id, language)
        context["pool_numbers"] = error.extra.get("pool_numbers")
        return template, context

    return run_use_case(
        request,
        platform,
        step,
        lambda done, _language: redirect(request, done[1] or back, done[0]),
        again,
        lambda error: isinstance(error, NotFound),
    )


def _calls_message(result: Any, session: Any, language: str) -> tuple[str, str | None]:
    """More calls: a purchase order to pay (shown); fewer: a change at the next renewal."""
    from voipdesk.core.i18n import format_date
    from voipdesk.core.money import Money
    from voipdesk.orders.models import PurchaseOrder

    order_id = getattr(result, "order_id", None)
    if order_id:
        order = session.get(PurchaseOrder, order_id)
        amount = Money(order.total_incl_tax, order.currency).format(language)
        message = gettext(
            language,
            "A purchase order %(number)s of %(amount)s incl. tax was created: pay it to add the "
            "calls. Nothing changes until it is paid.",
            number=order.number,
            amount=amount,
        )
        return message, f"/orders/{order_id}"
    effective_on = getattr(result, "effective_on", None)
    if effective_on is not None:
        message = gettext(
            language,
            "The line will have %(calls)s simultaneous call(s) from %(date)s (the next "
            "renewal); you can cancel this change until then.",
            calls=getattr(result, "new_simultaneous_calls", ""),
            date=format_date(effective_on, language),
        )
        return message, None
    return gettext(language, "The number of simultaneous calls is unchanged."), None


def _groups_context(
    platform: Platform, account: Account, query: Mapping[str, str] | None = None
) -> dict[str, Any]:
    from voipdesk.web.pages.group_lists import listed_groups

    with platform.session() as session:
        groups = [
            {
                "id": g.id,
                "name": g.name,
                "state": g.state,
                "services": len(actions.group_services(session, g.id)),
                "changes": len(actions.pending_changes(session, g.id)),
            }
            for g in actions.list_groups(session, account.id)
        ]
        requests = []
        for change in actions.incoming_contact_requests(session, account.id):
            group = session.get(BillingGroup, change.billing_group_id)
            owner = session.get(Account, group.account_id) if group is not None else None
            requests.append(
                {
                    "id": change.id,
                    "group": group.name if group is not None else "",
                    "owner": f"{owner.display_name} ({owner.handle})" if owner else "",
                    "requested_at": change.requested_at,
                }
            )
    return {**listed_groups(groups, query), "contact_requests": requests}


@router.get("/telephony", response_class=HTMLResponse)
def groups_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return render(
        request,
        "subscriptions/groups.html",
        _groups_context(platform, account, request.query_params),
    )


@router.post("/telephony/billing-contact-requests/{change_id}/{answer}")
def answer_billing_contact_request_page(
    change_id: str,
    answer: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    answers = {
        "accept": (
            actions.accept_billing_contact_request,
            "You accepted to become the billing contact.",
        ),
        "refuse": (
            actions.refuse_billing_contact_request,
            "You refused to become the billing contact.",
        ),
    }
    if answer not in answers:
        raise NotFound()
    action, success = answers[answer]
    return _act(
        request, platform, account, "",
        lambda s: action(s, platform, account.id, change_id),
        success, "/telephony",
        template="subscriptions/groups.html",
        extra=lambda: _groups_context(platform, account),
    )  # fmt: skip


@router.get("/telephony/{group_id}", response_class=HTMLResponse)
def group_page(
    group_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return render(
        request,
        "subscriptions/group.html",
        _group_context(
            platform, account, group_id, request_language(request), request.query_params
        ),
    )


@router.post("/telephony/{group_id}/pending-changes/{change_id}/cancel")
def cancel_change_page(
    group_id: str,
    change_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _act(
        request, platform, account, group_id,
        lambda s: actions.cancel_pending_change(s, platform, account.id, group_id, change_id),
        "The pending change was cancelled.", f"/telephony/{group_id}",
    )  # fmt: skip


@router.post("/telephony/{group_id}/terminate")
def terminate_group_page(
    group_id: str,
    request: Request,
    reason: str = Form(""),
    details: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _act(
        request, platform, account, group_id,
        lambda s: actions.terminate_group(s, platform, account.id, group_id, reason, details),
        "The billing group will be terminated at the next renewal.", f"/telephony/{group_id}",
    )  # fmt: skip


@router.post("/telephony/{group_id}/billing-contact")
def billing_contact_page(
    group_id: str,
    request: Request,
    billing_contact: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _act(
        request, platform, account, group_id,
        lambda s: actions.request_billing_contact_change(
            s, platform, account.id, group_id, billing_contact
        ),
        "The change of billing contact was recorded.", f"/telephony/{group_id}",
    )  # fmt: skip


@router.post("/telephony/{group_id}/billing-contact/cancel")
def cancel_billing_contact_page(
    group_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _act(
        request, platform, account, group_id,
        lambda s: actions.cancel_billing_contact_change(s, platform, account.id, group_id),
        "The change of billing contact was cancelled.", f"/telephony/{group_id}",
    )  # fmt: skip


def _service_context(
    platform: Platform, account: Account, group_id: str, section: str, number: str, language: str
) -> dict[str, Any]:
    context = _group_context(platform, account, group_id, language)
    with platform.session() as session:
        service = actions.get_numbered_service(
            session, account.id, group_id, number, SECTIONS[section]
        )
        changes = actions.pending_changes(session, group_id, service.id)
        calls_range = catalogue_rules.simultaneous_calls_range(service.offer_code)
        context.update(
            service=_service_row(service, changes, language, account.country, platform),
            section=section,
            available_offers=[
                (o, actions.OFFER_LABELS.get(o, o)) for o in actions.available_offers(service)
            ],
            line_offers=[
                (o, actions.OFFER_LABELS[o])
                for o in (catalogue_rules.SIP_DECOUVERTE, catalogue_rules.SIP_ENTREPRISE)
            ],
            other_lines=[
                s["number"]
                for s in context["services"]
                if s["section"] == "lines" and s["number"] != number
            ],
            calls_range=calls_range,
            pool_members=[m.number_e164 for m in actions.pool_members(session, service)]
            if service.pool_id
            else [],
            has_hardware=bool(
                session.scalar(
                    select(func.count())
                    .select_from(PhoneLoan)
                    .where(PhoneLoan.service_id == service.id, PhoneLoan.state == rules.LOAN_LENT)
                )
            ),
        )
    return context


@router.get("/telephony/{group_id}/{section}/{number}", response_class=HTMLResponse)
def service_page(
    group_id: str,
    section: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    if section not in SECTIONS:
        raise NotFound()
    context = _service_context(
        platform, account, group_id, section, number, request_language(request)
    )
    return render(request, "subscriptions/service.html", context)


@router.post("/telephony/{group_id}/{section}/{number}/{operation}")
def service_action(
    group_id: str,
    section: str,
    number: str,
    operation: str,
    request: Request,
    offer: str = Form(""),
    also: list[str] = Form([]),
    calls: int = Form(0),
    accept: bool = Form(False),
    reason: str = Form(""),
    details: str = Form(""),
    confirm_pool: bool = Form(False),
    confirmed: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    if section not in SECTIONS:
        raise NotFound()
    kinds = SECTIONS[section]
    me = account.id
    binding = operation == "conversion" or (operation == "termination" and not confirm_pool)
    if binding and confirmed != "yes":  # say what it does before doing it
        language = request_language(request)
        effective = rules.effective_on(platform.now(), platform.settings.timezone)
        values = {"number": phone(number), "date": format_date(effective, language)}
        if operation == "conversion" and section == "lines":
            consequence = N_(
                "At the next renewal (%(date)s) the line %(number)s becomes an alias number: it "
                "makes no outgoing calls any more and its Plug & Phone stops working. You can "
                "cancel until then."
            )
        elif operation == "conversion":
            consequence = N_(
                "At the next renewal (%(date)s) the number %(number)s becomes a SIP line, billed "
                "at its offer's monthly price. You can cancel until then."
            )
        else:
            consequence = N_(
                "At the next renewal (%(date)s) %(number)s is terminated and its number "
                "released; lent hardware must then be returned. You can cancel until then."
            )
        fields: dict[str, Any] = {
            "offer": offer, "calls": calls, "reason": reason, "details": details,
            "accept": "true" if accept else "",
        }  # fmt: skip
        return render(
            request,
            "confirm.html",
            {
                "title": gettext(language, "Confirm"),
                "consequence": gettext(language, consequence, **values),
                "button": gettext(language, "Yes, I confirm"),
                "action": f"/telephony/{group_id}/{section}/{number}/{operation}",
                "fields": {k: v for k, v in fields.items() if v not in ("", 0)},
                "back": f"/telephony/{group_id}/{section}/{number}",
            },
        )
    operations: dict[str, tuple[Callable[[Any], Any], Any]] = {
        "offer-change": (
            lambda s: actions.request_offer_change(
                s, platform, me, group_id, [number, *also], offer
            ),
            "The change of offer will apply at the next renewal.",
        ),
        "simultaneous-calls": (
            lambda s: actions.set_simultaneous_calls(
                s, platform, me, group_id, number, calls, accept
            ),
            _calls_message,
        ),
        "conversion": (
            (lambda s: actions.convert_line_to_alias(s, platform, me, group_id, number))
            if section == "lines"
            else (
                lambda s: actions.convert_alias_to_line(
                    s, platform, me, group_id, number, offer, accept
                )
            ),
            "The conversion will apply at the next renewal.",
        ),
        "termination": (
            lambda s: actions.request_termination(
                s, platform, me, group_id, number, kinds, reason, details, confirm_pool
            ),
            "The termination will apply at the next renewal.",
        ),
    }
    if operation not in operations:
        raise NotFound()
    action, success = operations[operation]
    language = request_language(request)
    return _act(
        request, platform, account, group_id, action, success, f"/telephony/{group_id}",
        template="subscriptions/service.html",
        extra=lambda: _service_context(platform, account, group_id, section, number, language),
    )  # fmt: skip


# --- Service management ----------------------------------------------------------------------
def _services_context(platform: Platform, account: Account, language: str) -> dict[str, Any]:
    with platform.session() as session:
        services = actions.list_account_services(session, account.id)
        changes = [
            change
            for group_id in {s.billing_group_id for s in services}
            for change in actions.pending_changes(session, group_id)
        ]
        return {
            "services": [
                _service_row(s, changes, language, account.country, platform) for s in services
            ],
            "reasons": [
                (code, gettext(language, label))
                for code, label in rules.TERMINATION_REASONS.items()
            ],
        }


def _listed_services(request: Request, context: dict[str, Any], language: str) -> dict[str, Any]:
    """Filters (kind, state, number), sort and pages of the services list, from the query."""
    from voipdesk.web.labels import LABELS
    from voipdesk.web.listing import sort_and_page

    query = request.query_params
    rows = context["services"]
    kinds = sorted({row["kind"] for row in rows})
    states = sorted({row["state"] for row in rows})
    if query.get("kind"):
        rows = [row for row in rows if row["kind"] == query["kind"]]
    if query.get("state"):
        rows = [row for row in rows if row["state"] == query["state"]]
    wanted = "".join(ch for ch in query.get("q", "") if ch.isdigit())
    if wanted:
        national = wanted.lstrip("0")
        rows = [row for row in rows if national in (row["number"] or "")]
    page = sort_and_page(
        rows,
        query.get("sort"),
        {"number": lambda row: row["number"] or "", "expiry": lambda row: row["expiry_on"]},
        query.get("cursor"),
    )
    context.update(
        services=page.rows,
        sort=page.sort,
        next_cursor=page.next_cursor,
        kind_options=[
            (code, gettext(language, LABELS["service_kind"].get(code, code))) for code in kinds
        ],
        state_options=[
            (code, gettext(language, LABELS["service_state"].get(code, code))) for code in states
        ],
    )
    return context


@router.get("/services", response_class=HTMLResponse)
def services_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    context = _services_context(platform, account, language)
    return render(
        request, "subscriptions/services.html", _listed_services(request, context, language)
    )


@router.post("/services/{service_id}/{operation}")
def services_action(
    service_id: str,
    operation: str,
    request: Request,
    mode: str = Form(""),
    reason: str = Form(""),
    details: str = Form(""),
    confirmed: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    me = account.id
    consequences = {
        "renewal": N_(
            "%(service)s will no longer renew by itself: you will get e-mail reminders to pay "
            "before %(expiry)s; unpaid, it is suspended, then deleted for good."
        ),
        "cancel": N_(
            "%(service)s will be deleted for good at its expiry date, %(expiry)s. You can undo "
            "this until then."
        ),
        "delete-now": N_(
            "We will e-mail you a link: following it deletes %(service)s at once and for good, "
            "without waiting for its expiry."
        ),
    }
    binding = operation in consequences and not (operation == "renewal" and mode != "manual")
    if binding and confirmed != "yes":  # say what it does before doing it
        language = request_language(request)
        with platform.session() as session:
            service = actions.get_account_service(session, me, service_id)
            values = {
                "service": actions.describe(service),
                "expiry": format_date(service.expiry_on, language),
            }
        return render(
            request,
            "confirm.html",
            {
                "title": gettext(language, "Confirm"),
                "consequence": gettext(language, consequences[operation], **values),
                "button": gettext(language, "Yes, I confirm"),
                "action": f"/services/{service_id}/{operation}",
                "fields": {
                    k: v
                    for k, v in {"mode": mode, "reason": reason, "details": details}.items()
                    if v
                },
                "back": "/services",
            },
        )
    operations: dict[str, tuple[Callable[[Any], Any], str]] = {
        "renewal": (
            lambda s: actions.set_renewal_mode(s, platform, me, service_id, mode),
            "The renewal mode was changed.",
        ),
        "cancel": (
            lambda s: actions.cancel_at_expiry(s, platform, me, service_id, reason, details),
            "The service will be deleted at its expiry date.",
        ),
        "undo-cancel": (
            lambda s: actions.undo_cancel_at_expiry(s, platform, me, service_id),
            "The cancellation was undone.",
        ),
        "delete-now": (
            lambda s: actions.request_delete_now(s, platform, me, service_id),
            "A confirmation e-mail was sent: the service is deleted once you confirm.",
        ),
    }
    if operation not in operations:
        raise NotFound()
    action, success = operations[operation]
    language = request_language(request)
    return _act(
        request, platform, account, "", action, success, "/services",
        template="subscriptions/services.html",
        extra=lambda: dict(
            _listed_services(request, _services_context(platform, account, language), language),
            failed_id=service_id,
        ),
    )  # fmt: skip


@router.get("/services/delete-now/{token}", response_class=HTMLResponse)
def delete_now_page(
    token: str, request: Request, account: Account = Depends(require_account)
) -> Response:
    return render(request, "subscriptions/delete_now.html", {"token": token})


@router.post("/services/delete-now/{token}")
def delete_now_confirm(
    token: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        actions.confirm_delete_now(session, platform, account.id, token)
    return redirect(
        request,
        "/services",
        gettext(request_language(request), "The service was deleted for good."),
    )
