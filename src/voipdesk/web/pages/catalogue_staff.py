"""Back-office page of the catalogue's spending cap policy: the defaults and limits in force,
their history, and new ones from a date (the same use case as the staff API)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.catalogue import actions, queries, rules
from voipdesk.catalogue.errors import SpendingCapPolicyInThePast, SpendingCapPolicyInvalid
from voipdesk.core.errors import DomainError
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_staff
from voipdesk.web.listing import sort_and_page
from voipdesk.web.rendering import form_errors, redirect, render

router = APIRouter()
PAGE = "/backoffice/catalogue/spending-cap"
AMOUNTS = ("default", "maximum", "new_customer_default", "new_customer_maximum", "minimum")
# The history sorts by its dates (the newest first by default; "until" empty, in force, last both
# ways), each amount and the days; 20 a page.
POLICY_SORTS: dict[str, Any] = {
    "from": lambda h: h["valid_from"],
    "until": lambda h: h["valid_until"],
    **{name: (lambda h, name=name: getattr(h["policy"], name)) for name in AMOUNTS},
    "days": lambda h: h["policy"].new_customer_days,
}
PAGE_SIZE = 20


def _context(platform: Platform, query: Mapping[str, str] | None = None) -> dict[str, Any]:
    query = query or {}
    today = platform.today()
    with platform.session() as session:
        rows = queries.spending_cap_policies(session)
        in_force = queries.spending_cap_policy(session, today)
        history = [
            {
                "policy": queries.policy_of(row),
                "valid_from": row.valid_from,
                "valid_until": row.valid_until,
            }
            for row in rows
        ]
    page = sort_and_page(
        history, query.get("sort"), POLICY_SORTS, query.get("cursor"), PAGE_SIZE, "-from"
    )
    return {
        "in_force": in_force,
        "history": page.rows,
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "money": lambda amount: Money(amount),
        "values": {name: f"{getattr(in_force, name):.2f}" for name in AMOUNTS}
        | {"new_customer_days": str(in_force.new_customer_days), "valid_from": today.isoformat()},
        "errors": {},
    }


@router.get(PAGE, response_class=HTMLResponse)
def spending_cap_policy_page(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _context(platform, request.query_params)
    return render(request, "catalogue/spending_cap_policy.html", context)


@router.post(PAGE)
async def set_spending_cap_policy_page(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    form = await request.form()
    typed = {name: str(form.get(name, "") or "").strip()[:20] for name in (*AMOUNTS, "valid_from")}
    typed["new_customer_days"] = str(form.get("new_customer_days", "") or "").strip()[:6]
    try:
        fields: dict[str, str] = {}
        amounts: dict[str, Decimal] = {}
        for name in AMOUNTS:
            try:
                amounts[name] = Decimal(typed[name].replace(",", "."))
            except InvalidOperation:
                fields[name] = "An amount in euros with at most two decimals."
        try:
            days = int(typed["new_customer_days"])
        except ValueError:
            days = -1
        try:
            valid_from = date.fromisoformat(typed["valid_from"])
        except ValueError:
            valid_from = date.min
            fields["valid_from"] = "Today or later."
        if fields:
            raise SpendingCapPolicyInvalid(fields=fields)
        if valid_from < platform.today():
            raise SpendingCapPolicyInThePast(fields={"valid_from": "Today or later."})
        policy = rules.SpendingCapPolicy(new_customer_days=days, **amounts)
        with platform.transaction() as session:
            actions.set_spending_cap_policy(
                session, policy, valid_from, platform.now(), f"account:{staff.id}"
            )
    except DomainError as error:
        context = _context(platform)
        context["error"] = error.detail(language)
        context["errors"] = form_errors(error, language)
        context["values"] = typed
        return render(request, "catalogue/spending_cap_policy.html", context, status=error.status)
    return redirect(request, PAGE, gettext(language, "The spending cap limits are saved."))
