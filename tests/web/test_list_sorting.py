"""The lists without their own sort in the database's order: the service e-mails and the back
office's customer search and unpaid invoices sort both ways by their headers, keep the filter in
the header links, and page with a cursor that stays valid with the sort."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

from tests.accounts.factories import PASSWORD, make_account
from tests.web.conftest import login
from voipdesk.accounts.models import Account, ServiceEmail
from voipdesk.invoices.models import Invoice


def _column(page: str, table_id: str, pattern: str) -> list[str]:
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(pattern, html.unescape(table))


def _links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'<a href="([^"]+)"', page)]


def _staff(client, platform) -> None:  # type: ignore[no-untyped-def]
    staff = make_account(platform, language="en")
    with platform.transaction() as session:
        session.get(Account, staff.id).is_staff = True  # type: ignore[union-attr]
    assert login(client, staff.handle, PASSWORD).status_code == 303


def test_service_emails_sort_by_date_and_subject_both_ways_and_keep_the_filter(
    client, platform
) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform, language="en")
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    with platform.transaction() as session:
        for number, subject in enumerate(["Bravo note", "Alpha note", "Charlie note", "Other"]):
            session.add(
                ServiceEmail(
                    account_id=account.id,
                    kind="test",
                    language="en",
                    to_address=account.email,
                    subject=subject,
                    body_text="x",
                    body_html="<p>x</p>",
                    created_at=start + timedelta(days=number),
                    status="stored",
                )
            )
    assert login(client, account.handle, PASSWORD).status_code == 303
    subjects = r'<a href="/service-emails/[^"]+" lang="en">([^<]+)</a>'

    newest = client.get("/service-emails?q=note").text
    assert _column(newest, "service-emails", subjects) == [
        "Charlie note",
        "Alpha note",
        "Bravo note",
    ]
    assert "/service-emails?q=note&sort=subject" in _links(newest)
    assert "/service-emails?q=note&sort=date" in _links(newest)  # oldest first, one click away

    by_subject = client.get("/service-emails?q=note&sort=subject").text
    assert _column(by_subject, "service-emails", subjects) == [
        "Alpha note",
        "Bravo note",
        "Charlie note",
    ]
    assert 'aria-sort="ascending"' in by_subject
    assert "/service-emails?q=note&sort=-subject" in _links(by_subject)
    backwards = client.get("/service-emails?q=note&sort=-subject").text
    assert _column(backwards, "service-emails", subjects) == [
        "Charlie note",
        "Bravo note",
        "Alpha note",
    ]
    oldest = client.get("/service-emails?q=note&sort=date").text
    assert _column(oldest, "service-emails", subjects) == [
        "Bravo note",
        "Alpha note",
        "Charlie note",
    ]


def test_service_email_pages_follow_the_sort(client, platform) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.accounts import actions

    account = make_account(platform, language="en")
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    with platform.transaction() as session:
        for number in range(5):
            session.add(
                ServiceEmail(
                    account_id=account.id,
                    kind="test",
                    language="en",
                    to_address=account.email,
                    subject=f"Note {4 - number}",
                    body_text="x",
                    body_html="<p>x</p>",
                    created_at=start + timedelta(days=number),
                    status="stored",
                )
            )
    seen: list[str] = []
    cursor = None
    while True:
        page = actions.list_service_emails(
            platform, account.id, limit=2, cursor=cursor, subject="Note", sort="subject"
        )
        seen += [email.subject for email in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"Note {n}" for n in range(5)]


def test_customer_search_results_sort_by_name_handle_and_email_both_ways(client, platform) -> None:  # type: ignore[no-untyped-def]
    for first, email in [("Zoé", "a-sortcase@example.org"), ("Ana", "z-sortcase@example.org")]:
        make_account(platform, first_name=first, last_name="Sortcase", email=email)
    _staff(client, platform)
    names = r'<a href="/backoffice/customers/[^"]+" translate="no">([^<]+)</a>'

    by_name = client.get("/backoffice/customers?q=sortcase&sort=name").text
    assert [n.split()[0] for n in _column(by_name, "customers", names)] == ["Ana", "Zoé"]
    assert "/backoffice/customers?q=sortcase&sort=-name" in _links(by_name)
    by_name_down = client.get("/backoffice/customers?q=sortcase&sort=-name").text
    assert [n.split()[0] for n in _column(by_name_down, "customers", names)] == ["Zoé", "Ana"]
    by_email = client.get("/backoffice/customers?q=sortcase&sort=email").text
    assert [n.split()[0] for n in _column(by_email, "customers", names)] == ["Zoé", "Ana"]
    by_email_down = client.get("/backoffice/customers?q=sortcase&sort=-email").text
    assert [n.split()[0] for n in _column(by_email_down, "customers", names)] == ["Ana", "Zoé"]
    assert 'name="sort" value="-email"' in by_email_down  # a new search keeps the sort


def test_unpaid_invoices_sort_by_date_amount_and_customer_both_ways(client, platform) -> None:  # type: ignore[no-untyped-def]
    owner = make_account(platform, language="en")
    with platform.transaction() as session:
        for number, (day, cents) in enumerate([(3, 5000), (1, 900), (2, 12000)]):
            session.add(
                Invoice(
                    number=f"SORT-{number}",
                    account_id=owner.id,
                    issued_on=date(2026, 1, day),
                    tax_country="FR",
                    total_excl_tax_cents=cents,
                    total_incl_tax_cents=cents,
                    created_at=datetime(2026, 1, day, tzinfo=UTC),
                )
            )
    _staff(client, platform)
    numbers = r"<td data-label=\"Number\">(SORT-\d)</td>"

    oldest = client.get("/backoffice/invoices").text
    assert _column(oldest, "unpaid-invoices", numbers) == ["SORT-1", "SORT-2", "SORT-0"]
    newest = client.get("/backoffice/invoices?sort=-date").text
    assert _column(newest, "unpaid-invoices", numbers) == ["SORT-0", "SORT-2", "SORT-1"]
    cheapest = client.get("/backoffice/invoices?sort=amount").text
    assert _column(cheapest, "unpaid-invoices", numbers) == ["SORT-1", "SORT-0", "SORT-2"]
    dearest = client.get("/backoffice/invoices?sort=-amount").text
    assert _column(dearest, "unpaid-invoices", numbers) == ["SORT-2", "SORT-0", "SORT-1"]
    assert "/backoffice/invoices?sort=amount" in _links(dearest)
    unknown = client.get("/backoffice/invoices?sort=password").text  # not a sort: the default
    assert _column(unknown, "unpaid-invoices", numbers) == ["SORT-1", "SORT-2", "SORT-0"]
