"""The staff's side: the staff home (work queues with counts and ages), customer search (handle,
name, e-mail, number) and the unpaid invoices (a customer's page is in `backoffice_customer`).
Staff land here: `/` shows the staff home to a staff account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select

from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_staff
from voipdesk.web.dashboard import age_in_days, staff_queues
from voipdesk.web.listing import sort_and_page
from voipdesk.web.rendering import render

router = APIRouter()


def staff_home(request: Request, platform: Platform) -> Response:
    now = platform.now()
    queues = [
        {"code": q.code, "href": q.href, "count": q.count, "age": age_in_days(q.oldest, now)}
        for q in staff_queues(platform)
    ]
    return render(request, "backoffice/home.html", {"queues": queues})


@router.get("/backoffice", response_class=HTMLResponse)
def backoffice_home(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    return staff_home(request, platform)


def find_customers(session: Any, text: str, limit: int = 200) -> list[Account]:
    """Customers whose handle, name, organisation or e-mail contains `text`, or who hold a number
    containing its digits."""
    from voipdesk.subscriptions.models import Service

    wanted = text.strip().lower()
    if not wanted:
        return []
    like = f"%{wanted}%"
    clauses = [
        func.lower(Account.handle).like(like),
        func.lower(Account.email).like(like),
        func.lower(Account.first_name + " " + Account.last_name).like(like),
        func.lower(func.coalesce(Account.organisation_name, "")).like(like),
    ]
    digits = "".join(ch for ch in wanted if ch.isdigit())
    if len(digits) >= 4:
        national = digits.lstrip("0")
        holders = select(Service.account_id).where(Service.number_e164.like(f"%{national}%"))
        clauses.append(Account.id.in_(holders))
    return list(
        session.scalars(
            select(Account)
            .where(Account.is_staff.is_(False), or_(*clauses))
            .order_by(Account.handle)
            .limit(limit)
        )
    )


@router.get("/backoffice/customers", response_class=HTMLResponse)
def customers_page(
    request: Request,
    q: str = "",
    sort: str = "",
    cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        found = find_customers(session, q)
        rows = [
            {
                "id": a.id,
                "handle": a.handle,
                "name": a.display_name,
                "email": a.email,
                "kind": a.kind,
                "country": a.country,
            }
            for a in found
        ]
    page = sort_and_page(rows, sort, CUSTOMER_SORTS, cursor, default="handle")
    return render(
        request,
        "backoffice/customers.html",
        {"customers": page.rows, "q": q, "sort": page.sort, "next_cursor": page.next_cursor},
    )


# The sorts of the customer search results and of the unpaid invoices ("-key" is descending).
CUSTOMER_SORTS: dict[str, Any] = {
    "name": lambda row: row["name"].lower(),
    "handle": lambda row: row["handle"],
    "email": lambda row: row["email"].lower(),
}
UNPAID_SORTS: dict[str, Any] = {
    "date": lambda row: row["issued_on"],
    "number": lambda row: row["number"],
    "customer": lambda row: row["customer"].lower(),
    "amount": lambda row: row["incl_tax"].amount,
}


@router.get("/backoffice/invoices", response_class=HTMLResponse)
def unpaid_invoices_page(
    request: Request,
    sort: str = "",
    cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    from voipdesk.invoices.models import INVOICE_UNPAID, Invoice

    with platform.session() as session:
        rows = session.execute(
            select(Invoice, Account)
            .join(Account, Account.id == Invoice.account_id)
            .where(Invoice.status == INVOICE_UNPAID)
            .order_by(Invoice.issued_on, Invoice.number)
            .limit(500)
        ).all()
        invoices = [
            {
                "number": invoice.number,
                "issued_on": invoice.issued_on,
                "age": (platform.today() - invoice.issued_on).days,
                "customer_id": account.id,
                "customer": account.display_name,
                "handle": account.handle,
                "excl_tax": Money(invoice.total_excl_tax, invoice.currency),
                "incl_tax": Money(invoice.total_incl_tax, invoice.currency),
            }
            for invoice, account in rows
        ]
    page = sort_and_page(invoices, sort, UNPAID_SORTS, cursor, default="date")
    return render(
        request,
        "backoffice/invoices.html",
        {"invoices": page.rows, "sort": page.sort, "next_cursor": page.next_cursor},
    )
