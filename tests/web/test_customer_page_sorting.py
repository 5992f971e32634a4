"""The staff's page of one customer: its services, orders, invoices and history each sort both
ways by their headers and page on their own; a list's links keep the other lists' sort and page,
and amounts sort as numbers (SQLite keeps order amounts as text)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tests.web.test_list_sorting import _column, _links, _staff
from voipdesk.accounts.models import SecurityEvent
from voipdesk.invoices.models import Invoice
from voipdesk.orders.models import PurchaseOrder

START = datetime(2026, 1, 1, 9, tzinfo=UTC)


def _customer(client, lines: int = 2):  # type: ignore[no-untyped-def]
    from tests.telephony_line.helpers import setup

    platform, customer, _group, numbers = setup(client, lines=lines)
    with platform.transaction() as session:
        for number, amount in enumerate(["9.00", "10.00", "100.00"]):
            session.add(
                PurchaseOrder(
                    number=f"ORD-SORT{number}",
                    account_id=customer.id,
                    state="delivered",
                    created_at=START + timedelta(days=(1, 0, 2)[number]),
                    expires_at=START + timedelta(days=30),
                    country="FR",
                    currency="EUR",
                    tax_date=date(2026, 1, 1),
                    billing_contact={},
                    allowed_payment_methods=[],
                    subtotal_excl_tax=Decimal(amount),
                    discount_excl_tax=Decimal("0"),
                    total_excl_tax=Decimal(amount),
                    total_tax=Decimal("0"),
                    total_incl_tax=Decimal(amount),
                    tax_breakdown=[],
                )
            )
        for number, (day, cents) in enumerate([(3, 900), (1, 10000), (2, 1000)]):
            session.add(
                Invoice(
                    number=f"INV-SORT{number}",
                    account_id=customer.id,
                    issued_on=date(2026, 1, day),
                    tax_country="FR",
                    total_excl_tax_cents=cents,
                    total_incl_tax_cents=cents,
                    created_at=datetime(2026, 1, day, tzinfo=UTC),
                )
            )
        for number in range(45):
            session.add(
                SecurityEvent(
                    account_id=customer.id,
                    kind="login" if number % 2 else "login_failed",
                    at=START + timedelta(hours=number),
                    details={},
                )
            )
    return platform, customer, numbers


ORDERS = r'<a href="/backoffice/orders/[^"]+">(ORD-SORT\d)</a>'
INVOICES = r'<td data-label="Number">(INV-SORT\d)</td>'
DATES = r'<time datetime="([^"]+)">'


def _next(page: str, param: str) -> str:
    found = re.search(r'href="([^"]*' + param + r'=[^"]+)" rel="next"', page)
    return html.unescape(found.group(1)) if found else ""


def test_orders_and_invoices_sort_by_date_and_amount_both_ways(client) -> None:  # type: ignore[no-untyped-def]
    platform, customer, _numbers = _customer(client)
    _staff(client, platform)
    url = f"/backoffice/customers/{customer.id}"

    page = client.get(url).text
    assert _column(page, "customer-orders", ORDERS) == [
        "ORD-SORT2",
        "ORD-SORT0",
        "ORD-SORT1",
    ]  # newest first
    assert _column(page, "customer-invoices", INVOICES) == ["INV-SORT0", "INV-SORT2", "INV-SORT1"]
    cheapest = client.get(f"{url}?orders_sort=amount").text
    assert _column(cheapest, "customer-orders", ORDERS) == ["ORD-SORT0", "ORD-SORT1", "ORD-SORT2"]
    dearest = client.get(f"{url}?orders_sort=-amount").text
    assert _column(dearest, "customer-orders", ORDERS) == ["ORD-SORT2", "ORD-SORT1", "ORD-SORT0"]
    oldest = client.get(f"{url}?orders_sort=date").text
    assert _column(oldest, "customer-orders", ORDERS) == ["ORD-SORT1", "ORD-SORT0", "ORD-SORT2"]

    invoices = client.get(f"{url}?orders_sort=-amount&invoices_sort=-amount").text
    assert _column(invoices, "customer-invoices", INVOICES) == [
        "INV-SORT1",
        "INV-SORT2",
        "INV-SORT0",
    ]
    assert _column(invoices, "customer-orders", ORDERS) == ["ORD-SORT2", "ORD-SORT1", "ORD-SORT0"]
    # each header changes its own list's sort and keeps the other lists'
    assert f"{url}?orders_sort=-amount&invoices_sort=amount" in _links(invoices)
    assert f"{url}?orders_sort=date&invoices_sort=-amount" in _links(invoices)
    by_date = client.get(f"{url}?invoices_sort=date").text
    assert _column(by_date, "customer-invoices", INVOICES) == [
        "INV-SORT1",
        "INV-SORT2",
        "INV-SORT0",
    ]


def test_history_sorts_both_ways_and_pages_keeping_the_other_lists(client) -> None:  # type: ignore[no-untyped-def]
    platform, customer, _numbers = _customer(client)
    _staff(client, platform)
    url = f"/backoffice/customers/{customer.id}"

    first = client.get(f"{url}?orders_sort=amount").text
    newest = _column(first, "customer-history", DATES)
    assert len(newest) == 20 and newest == sorted(newest, reverse=True)
    following = _next(first, "history_cursor")
    assert following == f"{url}?orders_sort=amount&history_cursor=20"
    second = client.get(following).text
    more = _column(second, "customer-history", DATES)
    assert len(more) == 20 and max(more) < min(newest)
    assert _column(second, "customer-orders", ORDERS) == ["ORD-SORT0", "ORD-SORT1", "ORD-SORT2"]
    # a change of the history's sort starts the history again; the other lists keep theirs
    assert f"{url}?orders_sort=amount&history_sort=date" in _links(second)
    oldest = client.get(f"{url}?history_sort=date").text
    dates = _column(oldest, "customer-history", DATES)
    assert dates == sorted(dates) and dates[0] < min(more)
    by_what = client.get(f"{url}?history_sort=what").text
    kinds = re.findall(r'<tr data-kind="([a-z_]+)">', by_what)
    assert len(kinds) == 20 and kinds == sorted(kinds) and "login_failed" not in kinds
    by_what_down = client.get(f"{url}?history_sort=-what").text
    kinds = re.findall(r'<tr data-kind="([a-z_]+)">', by_what_down)
    assert len(kinds) == 20 and kinds == sorted(kinds, reverse=True) and "login_failed" in kinds
    assert "login" not in kinds  # 23 failed logins fill the first page


def test_services_sort_by_number_both_ways_and_page(client) -> None:  # type: ignore[no-untyped-def]
    platform, customer, numbers = _customer(client, lines=3)
    _staff(client, platform)
    url = f"/backoffice/customers/{customer.id}"
    cells = r'<td data-label="Number">([^<]+)</td>'

    ascending = client.get(f"{url}?services_sort=number").text
    shown = _column(ascending, "customer-services", cells)
    assert len(shown) >= 3 and shown == sorted(shown)
    assert len(numbers) == 3
    descending = client.get(f"{url}?services_sort=-number&history_cursor=20").text
    assert _column(descending, "customer-services", cells) == list(reversed(shown))
    assert f"{url}?services_sort=number&history_cursor=20" in _links(descending)
    assert 'aria-sort="descending"' in descending
