"""The staff's page of one customer: its facts, and its services, orders, invoices and history,
each list sorted by its headers both ways and paged on its own (`services_sort`,
`orders_cursor`...: a list's links keep the other lists' sort and page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from voipdesk.accounts.models import Account, SecurityEvent
from voipdesk.catalogue.rules import currency_of
from voipdesk.core.errors import NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money
from voipdesk.core.pagination import InvalidCursor
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_staff
from voipdesk.web.listing import sort_and_page, sort_and_page_query
from voipdesk.web.pages.account_security import SECURITY_EVENT_LABELS
from voipdesk.web.rendering import render

router = APIRouter()

PAGE_SIZE = 20
# The sorts of the services (read whole) and of the history ("-key" is descending); the orders
# and the invoices sort as their own lists do (date, amount).
SERVICE_SORTS: dict[str, Any] = {
    "number": lambda row: row["number"],
    "kind": lambda row: row["kind"],
    "offer": lambda row: row["offer_code"],
    "state": lambda row: row["state"],
    "expiry": lambda row: row["expiry_on"],
    "monthly": lambda row: row["monthly"].amount,
}
HISTORY_SORTS: dict[str, Any] = {"date": SecurityEvent.at, "what": SecurityEvent.kind}


def _or_first_page(read: Any, cursor: str | None) -> Any:
    """`read(cursor)`, or the first page when the cursor is not one of this sort's (a sort
    changed by hand in the address)."""
    try:
        return read(cursor)
    except InvalidCursor:
        return read(None)


@router.get("/backoffice/customers/{account_id}", response_class=HTMLResponse)
def customer_page(
    account_id: str,
    request: Request,
    services_sort: str = "",
    services_cursor: str | None = None,
    orders_sort: str = "",
    orders_cursor: str | None = None,
    invoices_sort: str = "",
    invoices_cursor: str | None = None,
    history_sort: str = "",
    history_cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    from voipdesk.invoices import queries as invoices
    from voipdesk.invoices.queries import INVOICE_SORTS
    from voipdesk.orders import actions as orders
    from voipdesk.orders.actions.ordering import ORDER_SORTS
    from voipdesk.subscriptions import actions as subscriptions

    orders_sort = orders_sort if orders_sort.lstrip("-") in ORDER_SORTS else "-date"
    invoices_sort = invoices_sort if invoices_sort.lstrip("-") in INVOICE_SORTS else "-date"
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
        order_rows, orders_next = _or_first_page(
            lambda cursor: orders.list_orders(
                session,
                platform,
                account_id=account_id,
                limit=PAGE_SIZE,
                cursor=cursor,
                sort=orders_sort,
            ),
            orders_cursor,
        )
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
        invoice_rows, invoices_next = _or_first_page(
            lambda cursor: invoices.list_invoices(
                session, account_id, PAGE_SIZE, cursor, sort=invoices_sort
            ),
            invoices_cursor,
        )
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
        events = sort_and_page_query(
            session,
            select(SecurityEvent).where(
                SecurityEvent.account_id == account_id,
                SecurityEvent.kind.in_(SECURITY_EVENT_LABELS),
            ),
            HISTORY_SORTS,
            history_sort,
            history_cursor,
            (SecurityEvent.at, SecurityEvent.id),
            PAGE_SIZE,
            "-date",
        )
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
    language = request_language(request)
    history = [
        {"at": e.at, "kind": e.kind, "label": gettext(language, SECURITY_EVENT_LABELS[e.kind])}
        for e in events.rows
    ]
    service_page = sort_and_page(
        services, services_sort, SERVICE_SORTS, services_cursor, PAGE_SIZE, default="number"
    )
    return render(
        request,
        "backoffice/customer.html",
        {
            "customer": customer_data,
            "services": service_page.rows,
            "services_sort": service_page.sort,
            "services_next": service_page.next_cursor,
            "orders": order_list,
            "orders_sort": orders_sort,
            "orders_next": orders_next,
            "invoices": invoice_list,
            "invoices_sort": invoices_sort,
            "invoices_next": invoices_next,
            "history": history,
            "history_sort": events.sort,
            "history_next": events.next_cursor,
        },
    )
