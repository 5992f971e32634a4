"""The customer space's lists: the billing groups and a group's services sort both ways by their
headers, filter, and page with the filter and the sort kept in the links (monthly prices as
numbers)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import login
from tests.web.test_list_sorting import _column, _links
from voipdesk.subscriptions.models import BillingGroup, Service

START = datetime(2026, 1, 1, 9, tzinfo=UTC)


def _next(page: str) -> str:
    found = re.search(r'href="([^"]+)" rel="next"', page)
    return html.unescape(found.group(1)) if found else ""


def _customer(client):  # type: ignore[no-untyped-def]
    platform = client.app.state.platform
    customer = make_account(platform, language="en")
    assert login(client, customer.handle, PASSWORD).status_code == 303
    return platform, customer


def test_billing_groups_sort_by_name_and_services_filter_and_page(client) -> None:  # type: ignore[no-untyped-def]
    platform, customer = _customer(client)
    result = deliver(platform, customer.id, lines=[("sip-entreprise", 2)] * 2)
    with platform.transaction() as session:
        session.get(BillingGroup, result.billing_group_id).name = "Office main"  # type: ignore[union-attr]
        for number in range(24):
            session.add(
                BillingGroup(
                    account_id=customer.id,
                    name=f"Office {number:02d}" if number % 2 else f"Shop {number:02d}",
                    admin_account_id=customer.id,
                    tech_account_id=customer.id,
                    billing_account_id=customer.id,
                    tax_country="FR",
                    created_at=START + timedelta(days=number),
                )
            )
    names = r'<a href="/telephony/[^"]+">([^<]+)</a>'

    first = client.get("/telephony").text
    shown = _column(first, "billing-groups", names)
    assert len(shown) == 20 and shown == sorted(shown)  # by name by default
    following = _next(first)
    assert following == "/telephony?cursor=20"
    rest = _column(client.get(following).text, "billing-groups", names)
    assert len(rest) == 5 and min(rest) > max(shown)

    down = client.get("/telephony?sort=-name").text
    assert _column(down, "billing-groups", names) == sorted(shown + rest, reverse=True)[:20]
    most = client.get("/telephony?sort=-services").text
    assert _column(most, "billing-groups", names)[0] == "Office main"  # its two lines
    fewest = client.get("/telephony?sort=services").text
    assert "Office main" not in _column(fewest, "billing-groups", names)

    offices = client.get("/telephony?q=office&sort=-name").text
    listed = _column(offices, "billing-groups", names)
    assert len(listed) == 13 and listed == sorted(listed, reverse=True)
    assert all(name.startswith("Office") for name in listed)
    # a header keeps the filter, starting again from the first page
    assert "/telephony?q=office&sort=name" in _links(offices)
    assert "/telephony?q=office&sort=services" in _links(offices)
    paged = client.get("/telephony?q=o&sort=-name").text
    assert _next(paged) == "/telephony?q=o&sort=-name&cursor=20"
    nothing = client.get("/telephony?q=zzz").text
    assert "No billing group matches this filter." in nothing


def test_group_services_sort_by_price_as_numbers_filter_and_page(client) -> None:  # type: ignore[no-untyped-def]
    platform, customer = _customer(client)
    result = deliver(platform, customer.id, lines=[("sip-entreprise", 2)], aliases=24, faxes=1)
    group = result.billing_group_id
    with platform.transaction() as session:
        services = list(session.query(Service).filter(Service.billing_group_id == group))
        alias = sorted(s.number_e164 for s in services if s.kind == "alias_number")[-1]
        for service in services:
            if service.number_e164 == alias:
                service.monthly_price_e4 = 100_000  # 10.00: above the 5.00 line
        line = next(s.number_e164 for s in services if s.kind == "sip_line")
        fax = next(s.number_e164 for s in services if s.kind == "fax_line")
    url = f"/telephony/{group}"
    rows = r'<tr data-number="([^"]+)">'

    first = client.get(url).text
    numbers = _column(first, "group-services", rows)
    assert len(numbers) == 20 and numbers == sorted(numbers)  # by number by default
    assert _next(first) == f"{url}?cursor=20"
    dearest = _column(client.get(f"{url}?sort=-monthly").text, "group-services", rows)
    assert dearest[:3] == [alias, line, fax]  # 10.00, 5.00, 4.00 then the 1.00 aliases
    cheapest = client.get(f"{url}?sort=monthly&cursor=20").text
    assert _column(cheapest, "group-services", rows)[-3:] == [fax, line, alias]
    by_kind = _column(client.get(f"{url}?sort=-kind").text, "group-services", rows)
    assert by_kind[:2] == [line, fax]  # SIP line, Fax line, then the alias numbers

    aliases = client.get(f"{url}?kind=alias_number&sort=-monthly").text
    listed = _column(aliases, "group-services", rows)
    assert len(listed) == 20 and listed[0] == alias and line not in listed
    # the headers keep the filter; the pages keep the filter and the sort
    assert f"{url}?kind=alias_number&sort=monthly" in _links(aliases)
    assert f"{url}?kind=alias_number&sort=number" in _links(aliases)
    following = _next(aliases)
    assert following == f"{url}?kind=alias_number&sort=-monthly&cursor=20"
    rest = _column(client.get(following).text, "group-services", rows)
    assert len(rest) == 4 and not set(rest) & set(listed)
    one = client.get(f"{url}?q={line[-6:]}").text
    assert _column(one, "group-services", rows) == [line]
    assert "No service matches these filters." in client.get(f"{url}?q=98765432199").text


def _portabilities(platform, customer, group: str) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.telephony.portability.models import Portability

    with platform.transaction() as session:
        for number in range(25):
            finished = number >= 22
            session.add(
                Portability(
                    reference=f"PO-S{number:04d}",
                    billing_group_id=group,
                    account_id=customer.id,
                    country="FR",
                    numbers=[f"+3314000{number:04d}"],
                    current_operator=("Zeta", "alpha", "Beta")[number % 3],
                    holder_kind="individual",
                    holder_name="Holder",
                    desired_date=None
                    if number % 4 == 0
                    else START.date() + timedelta(days=50 - number),
                    step=("activated" if number % 2 else "cancelled")
                    if finished
                    else ("received" if number % 2 else "validated"),
                    created_at=START + timedelta(days=number),
                    created_by="test",
                    updated_at=START + timedelta(days=number),
                )
            )


def test_portabilities_sort_each_list_filter_and_page_keeping_the_other(client) -> None:  # type: ignore[no-untyped-def]
    platform, customer = _customer(client)
    group = deliver(platform, customer.id, lines=[("sip-entreprise", 2)]).billing_group_id
    _portabilities(platform, customer, group)
    url = f"/telephony/{group}/portabilities"
    refs = r'/portabilities/[^"]+">(PO-S\d+)</a>'

    first = client.get(url).text
    ongoing = _column(first, "ongoing", refs)
    assert ongoing == [f"PO-S{n:04d}" for n in range(21, 1, -1)]  # newest first
    assert _column(first, "finished", refs) == ["PO-S0024", "PO-S0023", "PO-S0022"]
    assert 'id="portability-form"' in first  # the request form stays
    following = _next(first)
    assert following == f"{url}?ongoing_cursor=20"
    assert _column(client.get(following).text, "ongoing", refs) == ["PO-S0001", "PO-S0000"]

    oldest = client.get(f"{url}?finished_sort=received&ongoing_cursor=20").text
    assert _column(oldest, "finished", refs) == ["PO-S0022", "PO-S0023", "PO-S0024"]
    assert _column(oldest, "ongoing", refs) == ["PO-S0001", "PO-S0000"]  # its page kept
    # a header changes its own list's sort and keeps the other list's sort and page
    assert f"{url}?finished_sort=received&ongoing_cursor=20&ongoing_sort=reference" not in _links(
        oldest
    )  # a change of the ongoing sort starts it again
    assert f"{url}?finished_sort=received&ongoing_sort=received" in _links(oldest)
    assert f"{url}?finished_sort=-received&ongoing_cursor=20" in _links(oldest)

    by_step = _column(client.get(f"{url}?ongoing_sort=step").text, "ongoing", refs)
    steps = [int(ref[-4:]) % 2 for ref in by_step]
    assert steps[:11] == [1] * 11  # received before validated, in the timeline's order
    by_desired = client.get(f"{url}?ongoing_sort=desired").text
    soonest = _column(by_desired, "ongoing", refs)
    assert soonest[0] == "PO-S0021"  # the soonest date; as soon as possible last:
    assert soonest[16:] == ["PO-S0020", "PO-S0016", "PO-S0012", "PO-S0008"]
    by_operator = client.get(f"{url}?ongoing_sort=-operator").text
    assert _column(by_operator, "ongoing", refs)[0] == "PO-S0021"  # Zeta, the newest of them

    zeta = client.get(f"{url}?q=zeta&ongoing_sort=reference&finished_sort=received").text
    listed = _column(zeta, "ongoing", refs)
    assert listed == [f"PO-S{n:04d}" for n in range(0, 22, 3)]
    assert _column(zeta, "finished", refs) == ["PO-S0024"]
    # the filter keeps both sorts; the headers keep the filter
    assert 'name="ongoing_sort" value="reference"' in zeta
    assert 'name="finished_sort" value="received"' in zeta
    assert f"{url}?q=zeta&ongoing_sort=-reference&finished_sort=received" in _links(zeta)
    by_number = client.get(f"{url}?q=0140000013").text
    assert _column(by_number, "ongoing", refs) == ["PO-S0013"]
    assert "No portability matches this filter." in by_number  # none finished


def test_phones_sort_by_deposit_as_numbers_filter_by_state_and_page(client) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.subscriptions.models import PhoneLoan

    platform, customer = _customer(client)
    group = deliver(platform, customer.id, lines=[("sip-entreprise", 2)]).billing_group_id
    ids = []
    with platform.transaction() as session:
        for number in range(24):
            loan = PhoneLoan(
                account_id=customer.id,
                billing_group_id=group,
                hardware_code="phone-pnp-pro",
                deposit=Decimal(("9.00", "60.00", "100.00")[number % 3]),
                state="lent" if number % 2 else "refunded",
                lent_at=START + timedelta(days=number),
            )
            session.add(loan)
            session.flush()
            ids.append(loan.id)
    url = f"/telephony/{group}/phones"
    rows = r'<tr data-phone="([^"]+)"'

    first = client.get(url).text
    assert _column(first, "phones", rows) == list(reversed(ids))[:20]  # newest loan first
    assert _next(first) == f"{url}?cursor=20"
    cheapest = _column(client.get(f"{url}?sort=deposit").text, "phones", rows)
    assert set(cheapest[:8]) == set(ids[0::3])  # 9.00 before 60.00 and 100.00 (as numbers)
    dearest = _column(client.get(f"{url}?sort=-deposit").text, "phones", rows)
    assert set(dearest[:8]) == set(ids[2::3])
    by_state = _column(client.get(f"{url}?sort=state").text, "phones", rows)
    assert set(by_state[:12]) == set(ids[1::2])  # lent before refunded

    lent = client.get(f"{url}?state=lent&sort=-deposit").text
    listed = _column(lent, "phones", rows)
    assert len(listed) == 12 and set(listed) == set(ids[1::2])
    assert set(listed[:4]) == {ids[n] for n in (23, 17, 11, 5)}  # the 100.00 ones
    # the headers keep the filter; the pages keep the filter and the sort
    assert f"{url}?state=lent&sort=deposit" in _links(lent)
    assert f"{url}?state=lent&sort=lent" in _links(lent)
    paged = client.get(f"{url}?state=refunded&sort=model").text
    assert _next(paged) == ""  # 12: one page
    everything = client.get(f"{url}?sort=model").text
    assert _next(everything) == f"{url}?sort=model&cursor=20"
    assert 'name="sort" value="model"' in everything  # the filter keeps the sort


def test_security_log_sorts_filters_and_pages_in_the_database(client) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.accounts.models import SecurityEvent

    platform, customer = _customer(client)
    with platform.transaction() as session:
        for number in range(40):
            session.add(
                SecurityEvent(
                    account_id=customer.id,
                    kind="login_failed" if number % 2 else "password_changed",
                    at=START + timedelta(hours=number),
                    ip=f"192.0.2.{number}" if number % 5 else None,
                    details={},
                )
            )
    dates = r'<time datetime="([^"]+)">'
    kinds = r'<tr data-kind="([a-z_]+)">'

    first = client.get("/security").text
    newest = _column(first, "security-events", dates)
    assert len(newest) == 25 and newest == sorted(newest, reverse=True)
    assert _next(first) == "/security?cursor=25"
    oldest = _column(client.get("/security?sort=date").text, "security-events", dates)
    assert oldest == sorted(oldest) and oldest[0] < min(newest)
    by_event = _column(client.get("/security?sort=event").text, "security-events", kinds)
    assert (
        by_event == sorted(by_event) and by_event[0] == "login" and "password_changed" in by_event
    )
    down = _column(client.get("/security?sort=-event").text, "security-events", kinds)
    assert down == sorted(down, reverse=True) and "login" not in down
    assert down.count("password_changed") == 20
    addresses = r'<td data-label="IP address">([^<]+)</td>'
    by_ip = client.get("/security?ip=192.0.2.&sort=-ip").text
    assert _column(by_ip, "security-events", addresses)[0] == "192.0.2.9"  # as text
    empty_last = client.get("/security?sort=ip&cursor=25").text
    assert _column(empty_last, "security-events", addresses)[-1] == "—"

    failed = client.get("/security?kind=login_failed&sort=date").text
    listed = _column(failed, "security-events", kinds)
    assert set(listed) == {"login_failed"} and len(listed) == 20
    assert "/security?kind=login_failed&sort=-date" in _links(failed)
    assert "/security?kind=login_failed&sort=event" in _links(failed)
    assert 'name="sort" value="date"' in failed  # the filter keeps the sort
    paged = client.get("/security?ip=192.0.2.&sort=-ip").text
    assert _next(paged) == "/security?ip=192.0.2.&sort=-ip&cursor=25"
    nothing = client.get("/security?ip=203.0.113.").text
    assert "No event matches these filters." in nothing
