"""Customer-space pages of consumption: a line's "Consumption" tab (the month's calls, searchable
and paged, with one button per call to block or allow that number on the line), the line's calls
in progress (polled by htmx), a billing group's statements and its spending cap.

Blocking or allowing a number goes through the telephony area's number-list use case, the one
the calls-management page uses; the cap through the consumption area's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.catalogue.queries import national_format
from voipdesk.consumption import actions, documents, errors, queries, rules
from voipdesk.core.errors import DomainError
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import format_date, gettext
from voipdesk.core.money import Money, round_cents
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscription_queries
from voipdesk.subscriptions.rules import LINE_KINDS
from voipdesk.switch import services as switch
from voipdesk.telephony.actions import lines
from voipdesk.telephony.api.schemas import path_number
from voipdesk.web.auth import require_account, require_staff
from voipdesk.web.listing import sort_and_page, sort_and_page_query
from voipdesk.web.rendering import form_errors, redirect, render

router = APIRouter()
LINE = "/telephony/{group_id}/lines/{number}"
PAGE_SIZE = 50


def _base(group_id: str, number: str) -> str:
    return f"/telephony/{group_id}/lines/{quote(path_number(number))}"


def shown(number: str) -> str:
    return documents.shown_number(number)


def _list_state(view: lines.LineView, number: str) -> str:
    """Whether a number can call the line now: "blocked" by the callers it refuses, or
    "allowed"."""
    if any(number.startswith(entry) for entry in view.blocked_callers):
        return "blocked"
    return "allowed"


def _months(current: Any, language: str, count: int = 6) -> list[tuple[str, str]]:
    months = []
    month = current
    for _ in range(count):
        months.append((f"{month:%Y-%m}", format_date(month, language, "MMMM y")))
        month = rules.previous_month(month)
    return months


@router.get(f"{LINE}/consumption", response_class=HTMLResponse)
def consumption_page(
    group_id: str,
    number: str,
    request: Request,
    month: str = Query("", max_length=7),
    q: str = Query("", max_length=40),
    sort: str = Query("", max_length=20),
    cursor: str | None = Query(None, max_length=400),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    """The month's calls, newest first; sorted by any column both ways (`sort`), the calls of a
    number searched (`q`), 50 a page (`cursor`)."""
    language = request_language(request)
    e164 = path_number(number)
    this_month = actions.current_month(platform)
    with platform.session() as session:
        view = lines.get_line(session, account.id, group_id, e164)
        wanted = queries.month_or_current(month or None, this_month)
        page = sort_and_page_query(
            session,
            queries.line_calls_select(e164, wanted, q),
            queries.LINE_CALL_SORTS,
            sort,
            cursor,
            queries.LINE_CALL_TIES,
            PAGE_SIZE,
            "-date",
        )
        found = [queries.call_line(row) for row in page.rows]
        totals = queries.line_totals(session, e164, wanted)
        matching = queries.line_matching(session, e164, wanted, q) if q else totals.calls
    calls = [
        {
            "call": call,
            "when": call.started_at,
            "number": call.other_party,
            "shown": shown(call.other_party),
            "direction": gettext(language, rules.DIRECTION_LABELS.get(call.direction, "Other")),
            "duration": documents.duration_text(call.duration_seconds),
            "type": gettext(language, rules.DESTINATION_LABELS[call.destination])
            if call.destination
            else gettext(language, "Being rated"),
            "price": call.price,
            "list_state": _list_state(view, call.other_party)
            if call.other_party.startswith("+")
            else None,
        }
        for call in found
    ]
    base = _base(group_id, e164)
    return render(
        request,
        "consumption/line.html",
        {
            "tab": "consumption",
            "line": view,
            "number": e164,
            "national": national_format(e164),
            "group_id": group_id,
            "base": base,
            "month": f"{wanted:%Y-%m}",
            "month_label": format_date(wanted, language, "MMMM y"),
            "months": _months(this_month, language),
            "q": q,
            "totals": totals,
            "matching": matching,
            "calls": calls,
            "sort": page.sort,
            "next_cursor": page.next_cursor,
            "total": Money(totals.price),
            "duration_total": documents.duration_text(totals.seconds),
            "csv_url": f"{base}/consumption/csv?month={wanted:%Y-%m}",
        },
    )


@router.get(f"{LINE}/consumption/csv")
def consumption_csv_page(
    group_id: str,
    number: str,
    month: str = Query("", max_length=7),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    e164 = path_number(number)
    with platform.session() as session:
        subscription_queries.numbered_service(session, account.id, group_id, e164, LINE_KINDS)
        wanted = queries.month_or_current(month or None, actions.current_month(platform))
        calls = queries.all_line_calls(session, e164, wanted)
    name = f"calls-{e164.lstrip('+')}-{wanted:%Y-%m}.csv"
    return Response(
        documents.calls_csv(calls),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(f"{LINE}/consumption/number-list")
def number_list_page(
    group_id: str,
    number: str,
    request: Request,
    caller: str = Form(..., max_length=30),
    operation: str = Form(...),
    back: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    """One click from a call: that number may no longer call the line (block), or may again
    (allow). Through the callers the line refuses, as on the calls-management page."""
    language = request_language(request)
    e164 = path_number(number)
    base = _base(group_id, e164)
    target = back if back.startswith(base + "/consumption") else f"{base}/consumption"
    with platform.transaction() as session:
        view = lines.get_line(session, account.id, group_id, e164)
        entries = list(view.blocked_callers)
        if operation == "block":
            entries = [*entries, caller] if caller not in entries else entries
            message = "%(number)s can no longer call this line."
        elif operation == "allow":
            entries = [e for e in entries if not caller.startswith(e)]
            message = "%(number)s can call this line again."
        else:
            return redirect(request, target, gettext(language, "Nothing was changed."))
        try:
            lines.update_settings(
                session, platform, account.id, group_id, e164, {"blocked_callers": entries}
            )
        except DomainError as error:
            return redirect(request, target, error.detail(language))
    return redirect(request, target, gettext(language, message, number=shown(caller)))


@router.get(f"{LINE}/calls-in-progress", response_class=HTMLResponse)
def calls_in_progress_fragment(
    group_id: str,
    number: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    """The line's calls ringing or answered now (the line pages poll it every few seconds)."""
    language = request_language(request)
    e164 = path_number(number)
    with platform.session() as session:
        subscription_queries.numbered_service(session, account.id, group_id, e164, LINE_KINDS)
        found = switch.calls_in_progress(session, e164)
    now = platform.now()
    return render(
        request,
        "consumption/_in_progress.html",
        {
            "base": _base(group_id, e164),
            "in_progress": [
                {
                    "number": shown(c.caller if c.direction == "incoming" else c.callee),
                    "direction": gettext(language, rules.DIRECTION_LABELS.get(c.direction, "")),
                    "answered": c.answered_at is not None,
                    "since": documents.duration_text(
                        int((now - (c.answered_at or c.started_at)).total_seconds())
                    ),
                }
                for c in found
            ],
        },
    )


# --- Billing group: statements and spending cap ---------------------------------------------------
# A group's statements sort by month (newest first), calls, charged time or amount; a year filter
# once there are more than a year of them; 24 a page.
STATEMENT_SORTS: dict[str, Any] = {
    "month": lambda s: s["month"],
    "calls": lambda s: s["calls"],
    "duration": lambda s: s["seconds"],
    "total": lambda s: s["total"].amount,
}
STATEMENTS_PAGE_SIZE = 24


def _with_tax(amount: Decimal, country: str, month: date) -> Money:
    """A month's beyond-plan amount as it is invoiced: with the taxes of the period the renewal
    charges it in (the next month)."""
    invoiced_on = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    components = catalogue_rules.tax_components(country, invoiced_on)
    return Money(amount + sum((round_cents(amount * c.rate) for c in components), Decimal(0)))


@router.get("/telephony/{group_id}/statements", response_class=HTMLResponse)
def statements_page(
    group_id: str,
    request: Request,
    year: str = Query("", max_length=4),
    sort: str = Query("", max_length=20),
    cursor: str | None = Query(None, max_length=20),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    with platform.session() as session:
        group = subscription_queries.account_group(session, account.id, group_id)
        found = queries.statements(session, account.id, group_id)
    rows: list[dict[str, Any]] = [
        {
            "month": f"{s.month:%Y-%m}",
            "year": f"{s.month:%Y}",
            "label": format_date(s.month, language, "MMMM y"),
            "calls": s.calls,
            "seconds": s.seconds,
            "duration": documents.duration_text(s.seconds),
            "total": Money(s.total),
            "total_incl": _with_tax(s.total, group.tax_country, s.month),
        }
        for s in found
    ]
    years = sorted({str(row["year"]) for row in rows}, reverse=True)
    chosen = year if year in years else ""
    shown = [row for row in rows if row["year"] == chosen] if chosen else rows
    page = sort_and_page(
        shown, sort, STATEMENT_SORTS, cursor, STATEMENTS_PAGE_SIZE, default="-month"
    )
    return render(
        request,
        "consumption/statements.html",
        {
            "group": group,
            "statements": page.rows,
            "statements_total": len(rows),
            "sort": page.sort,
            "next_cursor": page.next_cursor,
            "years": [("", gettext(language, "All years")), *[(y, y) for y in years]],
            "year": chosen,
            "year_filter": len(rows) > 12 or bool(year),
        },
    )


@router.get("/telephony/{group_id}/statements/{month}/{kind}")
def statement_download_page(
    group_id: str,
    month: str,
    kind: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    wanted = rules.parse_month(month)
    if wanted is None or kind not in ("pdf", "csv"):
        raise errors.StatementNotFound()
    with platform.session() as session:
        detail = queries.statement_detail(session, account.id, group_id, wanted)
    name = documents.statement_filename(wanted, language, kind)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "pdf":
        pdf = documents.statement_pdf(detail, platform.settings.operator_name, language)
        return Response(pdf, media_type="application/pdf", headers=headers)
    return Response(documents.calls_csv(detail.calls), media_type="text/csv", headers=headers)


def _cap_context(
    platform: Platform, account: Account, group_id: str, language: str
) -> dict[str, Any]:
    with platform.session() as session:
        group = subscription_queries.account_group(session, account.id, group_id)
        view = actions.spending_cap(session, platform, account.id, group_id)
    return {
        "group": group,
        "cap": view,
        "amount": Money(view.amount),
        "spent": Money(view.spent),
        "minimum": Money(view.limits.minimum),
        "maximum": Money(view.limits.maximum),
        "month_label": format_date(view.month, language, "MMMM y"),
        "thresholds": rules.WARNING_THRESHOLDS,
    }


@router.get("/telephony/{group_id}/spending-cap", response_class=HTMLResponse)
def spending_cap_page(
    group_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _cap_context(platform, account, group_id, request_language(request))
    return render(request, "consumption/spending_cap.html", context)


@router.post("/telephony/{group_id}/spending-cap")
def spending_cap_change_page(
    group_id: str,
    request: Request,
    amount: str = Form(..., max_length=20),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    try:
        value = Decimal(amount.replace(",", ".").replace("€", "").strip())
    except InvalidOperation:
        value = Decimal("-1")
    try:
        with platform.transaction() as session:
            actions.set_spending_cap(
                session, platform, account.id, group_id, value, f"account:{account.id}"
            )
    except DomainError as error:
        if error.status == 404:
            raise
        context = _cap_context(platform, account, group_id, language)
        context.update(
            {"error": error.detail(language), "error_fields": form_errors(error, language),
             "entered": amount}
        )  # fmt: skip
        return render(request, "consumption/spending_cap.html", context, status=error.status)
    return redirect(
        request,
        f"/telephony/{group_id}/spending-cap",
        gettext(language, "The spending cap is saved."),
    )


# --- Staff: rate tables and re-rating ------------------------------------------------------------
# The stored rates sort by offer, destination, price per minute, connection fee and dates (the
# newest first by default; "until" empty, in force, last both ways); filtered by destination and
# offer code; 25 a page.
RATE_SORTS: dict[str, Any] = {
    "plan": lambda r: r["plan"].casefold(),
    "destination": lambda r: r["destination"].casefold(),
    "per_minute": lambda r: r["per_minute_value"],
    "connection_fee": lambda r: r["connection_fee_value"],
    "from": lambda r: r["valid_from"],
    "until": lambda r: r["valid_until"],
}
RATES_PAGE_SIZE = 25


def _rates_context(
    platform: Platform, language: str, query: Mapping[str, str] | None = None
) -> dict[str, Any]:
    query = query or {}
    with platform.session() as session:
        found = actions.rates(session)
    rows: list[dict[str, Any]] = [
        {
            "plan": r.plan,
            "destination_code": r.destination,
            "destination": gettext(language, rules.DESTINATION_LABELS[r.destination]),
            "per_minute": f"{r.per_minute:.4f}",
            "per_minute_value": r.per_minute,
            "connection_fee": f"{r.connection_fee:.4f}",
            "connection_fee_value": r.connection_fee,
            "increments": f"{r.first_increment} / {r.next_increment}",
            "valid_from": r.valid_from,
            "valid_until": r.valid_until,
        }
        for r in found
    ]
    destination = query.get("destination", "")
    plan = query.get("plan", "").strip()[:60]
    shown = [
        r
        for r in rows
        if (not destination or r["destination_code"] == destination)
        and (not plan or plan.casefold() in r["plan"].casefold())
    ]
    page = sort_and_page(
        shown, query.get("sort"), RATE_SORTS, query.get("cursor"), RATES_PAGE_SIZE, "-from"
    )
    destinations = [
        (code, gettext(language, rules.DESTINATION_LABELS[code])) for code in rules.DESTINATIONS
    ]
    return {
        "rates": page.rows,
        "rates_total": len(rows),
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "filter_destination": destination,
        "filter_plan": plan,
        "filter_destinations": [("", gettext(language, "All destinations")), *destinations],
        "destinations": destinations,
        "defaults": [
            (gettext(language, rules.DESTINATION_LABELS[code]), rate)
            for code, rate in rules.DEFAULT_RATES.items()
        ],
    }


@router.get("/backoffice/consumption/rates", response_class=HTMLResponse)
def rates_page(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _rates_context(platform, request_language(request), request.query_params)
    return render(request, "consumption/rates.html", context)


@router.post("/backoffice/consumption/rates")
def add_rate_page(
    request: Request,
    plan: str = Form("*", max_length=60),
    destination: str = Form(..., max_length=40),
    per_minute: str = Form(..., max_length=20),
    connection_fee: str = Form("0", max_length=20),
    first_increment: int = Form(60, ge=1, le=3600),
    next_increment: int = Form(1, ge=1, le=3600),
    valid_from: str = Form(..., max_length=10),
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    from datetime import date as date_type

    language = request_language(request)
    try:
        try:
            values: dict[str, Any] = {
                "per_minute": Decimal(per_minute.replace(",", ".")),
                "connection_fee": Decimal(connection_fee.replace(",", ".") or "0"),
                "valid_from": date_type.fromisoformat(valid_from),
            }
        except (InvalidOperation, ValueError):
            raise errors.InvalidRate(
                reason=gettext(language, "a price or date is malformed.")
            ) from None
        with platform.transaction() as session:
            actions.set_rate(
                session, plan=plan.strip() or "*", destination=destination,
                first_increment=first_increment, next_increment=next_increment,
                actor=f"account:{staff.id}", **values,
            )  # fmt: skip
    except DomainError as error:
        context = _rates_context(platform, language)
        context["error"] = error.detail(language)
        return render(request, "consumption/rates.html", context, status=error.status)
    return redirect(
        request, "/backoffice/consumption/rates", gettext(language, "The rate is saved.")
    )


@router.post("/backoffice/consumption/rerating")
def rerate_page(
    request: Request,
    month: str = Form(..., max_length=7),
    explanation: str = Form(..., min_length=3, max_length=300),
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    wanted = rules.parse_month(month)
    if wanted is None:
        context = _rates_context(platform, language)
        context["error"] = errors.InvalidMonth().detail(language)
        return render(request, "consumption/rates.html", context, status=422)
    with platform.transaction() as session:
        result = actions.rerate_month(session, platform, wanted, explanation, f"account:{staff.id}")
    return redirect(
        request,
        "/backoffice/consumption/rates",
        gettext(
            language,
            "%(month)s rated again: %(groups)s billing groups get a difference on their next "
            "invoice.",
            month=month,
            groups=result.groups_changed,
        ),
    )
