"""The staff's side: the staff home (work queues with counts and ages), customer search (handle,
name, e-mail, number), a customer's page (services, orders, invoices, history) and the unpaid
invoices. Staff land here: `/` shows the staff home to a staff account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select

from voipdesk.accounts.models import Account
from voipdesk.catalogue.rules import currency_of
from voipdesk.core.errors import NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_staff
from voipdesk.web.dashboard import age_in_days, staff_queues
from voipdesk.web.listing import sort_and_page
from voipdesk.web.pages.account_security import SECURITY_EVENT_LABELS
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


@router.get("/backoffice/customers/{account_id}", response_class=HTMLResponse)
def customer_page(
    account_id: str,
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    from voipdesk.accounts import actions as accounts
    from voipdesk.invoices import queries as invoices
    from voipdesk.orders import actions as orders
    from voipdesk.subscriptions import actions as subscriptions

    with platform.session() as session:
        customer = session.get(Account, account_id)
        if customer is None or customer.is_staff:
            raise NotFound()
        services = [
            {
                "kind": s.kind,
                "number": s.number_e164,
                "offer_code": s.offer_code,
                "state": s.state,
                "expiry_on": s.expiry_on,
                "monthly": Money(s.monthly_price_excl_tax, currency_of(customer.country)),
            }
            for s in subscriptions.list_account_services(session, account_id)
            if s.kind != "option"
        ]
        order_rows, _ = orders.list_orders(session, platform, account_id=account_id, limit=20)
        order_list = [
            {
                "id": o.id,
                "number": o.number,
                "state": o.state,
                "created_at": o.created_at,
                "excl_tax": Money(o.total_excl_tax, o.currency),
                "incl_tax": Money(o.total_incl_tax, o.currency),
            }
            for o in order_rows
        ]
        invoice_rows, _ = invoices.list_invoices(session, account_id, 20)
        invoice_list = [
            {
                "number": i.number,
                "issued_on": i.issued_on,
                "status": "paid" if i.status == "paid" else "unpaid",
                "excl_tax": Money(i.total_excl_tax, i.currency),
                "incl_tax": Money(i.total_incl_tax, i.currency),
            }
            for i in invoice_rows
        ]
        customer_data = {
            "id": customer.id,
            "handle": customer.handle,
            "name": customer.display_name,
            "email": customer.email,
            "kind": customer.kind,
            "country": customer.country,
            "language": customer.language,
            "address": f"{customer.address_line1}, {customer.postal_code} {customer.city}",
        }
    events = accounts.list_security_events(platform, account_id, limit=20).items
    language = request_language(request)
    history = [
        {"at": e.at, "label": gettext(language, SECURITY_EVENT_LABELS[e.kind])}
        for e in events
        if e.kind in SECURITY_EVENT_LABELS
    ]
    return render(
        request,
        "backoffice/customer.html",
        {
            "customer": customer_data,
            "services": services,
            "orders": order_list,
            "invoices": invoice_list,
            "history": history,
        },
    )


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
