"""The lists that had a fixed order: a line's call log and a billing group's statements in the
customer space, the webhook endpoints and their deliveries, the call rates and the spending cap
limits in the back office sort both ways by their headers, keep their filters in the header
links, filter, page, and say when a filter finds nothing."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from tests.accounts.factories import PASSWORD, make_account
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from tests.web.conftest import login
from tests.web.test_list_sorting import _column, _links, _staff
from tests.web.test_staff_list_sorting import _next
from voipdesk.catalogue import actions as catalogue_actions
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.consumption import actions as consumption_actions
from voipdesk.consumption.models import Statement
from voipdesk.consumption.services import rate_everything_pending
from voipdesk.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _customer_line(client, platform):  # type: ignore[no-untyped-def]
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    assert login(client, account.email, PASSWORD).status_code in (302, 303)
    return result.billing_group_id, result.sip_credentials[0].number_e164


# --- A line's call log --------------------------------------------------------------------------
CALLED = r'<tr data-call="[^"]+" data-number="(\+\d+)"'


def test_line_calls_sort_both_ways_keep_the_month_and_search_and_page(client, platform) -> None:  # type: ignore[no-untyped-def]
    group, number = _customer_line(client, platform)
    store(
        platform,
        call(number, group, "+33612345601", T0, 300),
        call(number, group, "+33145678902", T0 + timedelta(hours=1), 20),
        call(number, group, "+33612345603", T0 + timedelta(hours=2), 95),
        call(number, group, "", T0 + timedelta(hours=3), 61, direction="incoming",
             caller="+33198765404"),
    )  # fmt: skip
    rate_everything_pending(platform)
    base = f"/telephony/{group}/lines/{quote(number)}/consumption"

    newest = client.get(f"{base}?month=2026-03").text
    assert _column(newest, "line-calls", CALLED) == [
        "+33198765404",
        "+33612345603",
        "+33145678902",
        "+33612345601",
    ]
    longest = client.get(f"{base}?month=2026-03&sort=-duration").text
    assert _column(longest, "line-calls", CALLED) == [
        "+33612345601",
        "+33612345603",
        "+33198765404",
        "+33145678902",
    ]
    assert 'aria-sort="descending"' in longest
    by_number = client.get(f"{base}?month=2026-03&sort=number").text  # the other party
    assert _column(by_number, "line-calls", CALLED) == [
        "+33145678902",
        "+33198765404",
        "+33612345601",
        "+33612345603",
    ]
    searched = client.get(f"{base}?month=2026-03&q=0612&sort=duration").text
    assert _column(searched, "line-calls", CALLED) == ["+33612345603", "+33612345601"]
    assert any(
        link.endswith("?month=2026-03&q=0612&sort=-duration") for link in _links(searched)
    ), "the header keeps the month and the search"
    assert 'name="sort" value="duration"' in searched  # a new search keeps the sort
    other_month = client.get(f"{base}?month=2026-02&sort=date").text
    assert "No call this month." in other_month


def test_line_calls_page_in_the_chosen_order(client, platform) -> None:  # type: ignore[no-untyped-def]
    group, number = _customer_line(client, platform)
    store(
        platform,
        *[
            call(number, group, f"+336123456{n:02d}", T0 + timedelta(minutes=n), 10 + n)
            for n in range(55)
        ],
    )
    base = f"/telephony/{group}/lines/{quote(number)}/consumption"
    url = f"{base}?month=2026-03&sort=duration"
    seen: list[str] = []
    while url:
        page = client.get(url).text
        seen += _column(page, "line-calls", CALLED)
        url = _next(page)
        if url:
            assert url.endswith("?month=2026-03&sort=duration&cursor=50")
    assert seen == [f"+336123456{n:02d}" for n in range(55)]


# --- A billing group's statements -------------------------------------------------------------
MONTHS = r'<tr data-month="(\d{4}-\d{2})"'


def test_statements_sort_both_ways_and_filter_by_year(client, platform) -> None:  # type: ignore[no-untyped-def]
    group, _number = _customer_line(client, platform)
    with platform.transaction() as session:
        for index in range(14):  # Nov 2024 .. Dec 2025
            month = date(2024 + (10 + index) // 12, (10 + index) % 12 + 1, 1)
            session.add(
                Statement(
                    billing_group_id=group,
                    month=month,
                    calls=index,
                    seconds=(index * 37) % 11 * 60,
                    total_e4=0,
                    beyond_plan_cents=(14 - index) * 100,
                    created_at=T0,
                    invoiced_period=None,
                )
            )
    page = client.get(f"/telephony/{group}/statements").text
    months = _column(page, "statements", MONTHS)
    assert months[:2] == ["2025-12", "2025-11"] and months[-1] == "2024-11"
    cheapest = client.get(f"/telephony/{group}/statements?sort=total").text
    assert _column(cheapest, "statements", MONTHS)[:2] == ["2025-12", "2025-11"]
    dearest = client.get(f"/telephony/{group}/statements?sort=-total").text
    assert _column(dearest, "statements", MONTHS)[:2] == ["2024-11", "2024-12"]
    assert 'id="filter-year"' in page  # more than a year of statements: a year filter
    year = client.get(f"/telephony/{group}/statements?year=2024&sort=month").text
    assert _column(year, "statements", MONTHS) == ["2024-11", "2024-12"]
    assert f"/telephony/{group}/statements?year=2024&sort=-month" in _links(year)
    none = client.get(f"/telephony/{group}/statements?year=2019").text
    assert len(_column(none, "statements", MONTHS)) == 14  # not one of its years: all of them


# --- Back office: call rates and spending cap limits ------------------------------------------
PLANS = r'<td data-label="Offer" translate="no">([^<]+)</td><td data-label="Destination">([^<]+)<'


def test_rates_sort_both_ways_filter_by_destination_and_offer(client, platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        for plan, destination, price, start in [
            ("sip-entreprise", "mobile", "0.0800", date(2026, 1, 1)),
            ("*", "fixed", "0.0100", date(2026, 2, 1)),
            ("sip-decouverte", "mobile", "0.1200", date(2025, 12, 1)),
            ("*", "international_world", "0.9000", date(2026, 3, 1)),
            ("sip-entreprise", "international_europe", "0.2000", date(2026, 1, 15)),
            ("*", "special", "0.3000", date(2025, 11, 1)),
        ]:
            consumption_actions.set_rate(
                session, plan=plan, destination=destination, per_minute=Decimal(price),
                connection_fee=Decimal("0"), first_increment=60, next_increment=1,
                valid_from=start, actor="test",
            )  # fmt: skip
    _staff(client, platform)
    newest = client.get("/backoffice/consumption/rates").text
    assert [plan for plan, _d in _column(newest, "rates", PLANS)][:2] == ["*", "*"]
    assert _column(newest, "rates", PLANS)[0][1] == "International (rest of the world)"
    cheapest = client.get("/backoffice/consumption/rates?sort=per_minute").text
    assert _column(cheapest, "rates", PLANS)[0] == ("*", "Fixed")
    dearest = client.get("/backoffice/consumption/rates?sort=-per_minute").text
    assert _column(dearest, "rates", PLANS)[0] == ("*", "International (rest of the world)")
    mobile = client.get("/backoffice/consumption/rates?destination=mobile&sort=-plan").text
    assert _column(mobile, "rates", PLANS) == [
        ("sip-entreprise", "Mobile"),
        ("sip-decouverte", "Mobile"),
    ]
    assert "/backoffice/consumption/rates?destination=mobile&sort=plan" in _links(mobile)
    offer = client.get("/backoffice/consumption/rates?plan=entreprise").text
    assert {plan for plan, _d in _column(offer, "rates", PLANS)} == {"sip-entreprise"}
    nothing = client.get("/backoffice/consumption/rates?plan=fax").text
    assert "No rate matches this filter." in nothing


DAYS = r'<td data-label="Days">(\d+)</td>'


def test_spending_cap_limits_history_sorts_both_ways(client, platform) -> None:  # type: ignore[no-untyped-def]
    base = catalogue_rules.BUILT_IN_SPENDING_CAP_POLICY
    today = platform.today()
    with platform.transaction() as session:
        for offset, days, default in [(0, 30, "90"), (10, 40, "80"), (20, 50, "95")]:
            catalogue_actions.set_spending_cap_policy(
                session,
                dataclasses.replace(base, new_customer_days=days, default=Decimal(default)),
                today + timedelta(days=offset),
                platform.now(),
                "test",
            )
    _staff(client, platform)
    page = client.get("/backoffice/catalogue/spending-cap").text
    assert _column(page, "policies", DAYS) == ["50", "40", "30"]  # the newest first
    oldest = client.get("/backoffice/catalogue/spending-cap?sort=from").text
    assert _column(oldest, "policies", DAYS) == ["30", "40", "50"]
    by_default = client.get("/backoffice/catalogue/spending-cap?sort=-default").text
    assert _column(by_default, "policies", DAYS) == ["50", "30", "40"]
    assert "/backoffice/catalogue/spending-cap?sort=default" in _links(by_default)


# --- Back office: webhook endpoints and their deliveries ---------------------------------------
ADDRESSES = r'<a href="/backoffice/webhooks/[0-9a-f]+" translate="no">([^<]+)</a>'


def _endpoint(session, url: str, description: str, enabled: bool, at: datetime) -> str:  # type: ignore[no-untyped-def]
    endpoint = WebhookEndpoint(
        url=url, description=description, secret="whsec_test", event_types=["order.paid"],
        enabled=enabled, created_at=at, created_by="staff", updated_at=at,
    )  # fmt: skip
    session.add(endpoint)
    session.flush()
    return endpoint.id


def test_webhook_endpoints_sort_both_ways_and_filter(client, platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        for number, (url, description, enabled) in enumerate(
            [
                ("https://crm.example.org/hooks", "CRM", True),
                ("https://accounting.example.org/in", "Accounting", False),
                ("https://zeta.example.org/x", "", True),
                ("https://billing.example.org/y", "Billing", True),
                ("https://provision.example.org/z", "Provisioning", True),
                ("https://old.example.org/w", "Old CRM", False),
            ]
        ):
            _endpoint(session, url, description, enabled, T0 + timedelta(days=number))
    _staff(client, platform)
    page = client.get("/backoffice/webhooks").text
    assert _column(page, "endpoints", ADDRESSES)[0] == "https://crm.example.org/hooks"
    by_address = client.get("/backoffice/webhooks?sort=address").text
    assert _column(by_address, "endpoints", ADDRESSES)[:2] == [
        "https://accounting.example.org/in",
        "https://billing.example.org/y",
    ]
    backwards = client.get("/backoffice/webhooks?sort=-address").text
    assert _column(backwards, "endpoints", ADDRESSES)[0] == "https://zeta.example.org/x"
    no_description = client.get("/backoffice/webhooks?sort=-description").text
    assert _column(no_description, "endpoints", ADDRESSES)[-1] == "https://zeta.example.org/x"
    disabled = client.get("/backoffice/webhooks?state=disabled&sort=address").text
    assert _column(disabled, "endpoints", ADDRESSES) == [
        "https://accounting.example.org/in",
        "https://old.example.org/w",
    ]
    assert "/backoffice/webhooks?state=disabled&sort=-address" in _links(disabled)
    crm = client.get("/backoffice/webhooks?q=crm").text
    assert set(_column(crm, "endpoints", ADDRESSES)) == {
        "https://crm.example.org/hooks",
        "https://old.example.org/w",
    }
    nothing = client.get("/backoffice/webhooks?q=nowhere").text
    assert "No endpoint matches this filter." in nothing


EVENTS = (
    r'<tr data-delivery="[0-9a-f]+" data-state="(\w+)">\s*<td[^>]*><a [^>]*><time[^>]*>[^<]*'
    r"</time></a></td>\s*<td[^>]*><code>([\w.]+)</code>"
)


def test_webhook_deliveries_sort_filter_and_page(client, platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        endpoint = _endpoint(session, "https://crm.example.org/hooks", "CRM", True, T0)
        for number in range(30):
            event = ("order.paid", "order.delivered", "invoice.issued")[number % 3]
            state = ("pending", "succeeded", "failed")[number % 2 * (1 + number % 4 // 2)]
            message = WebhookMessage(
                id=f"msg_{number:03d}", event_type=event, source_event_id=f"source-{number}",
                body="{}", created_at=T0 + timedelta(minutes=number),
            )  # fmt: skip
            session.add(message)
            session.flush()
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint,
                    message_id=message.id,
                    state=state,
                    attempts=number % 5,
                    created_at=T0 + timedelta(minutes=number),
                    next_attempt_at=None,
                )
            )
    _staff(client, platform)
    base = f"/backoffice/webhooks/{endpoint}"
    newest = client.get(base).text
    rows = _column(newest, "deliveries", EVENTS)
    assert len(rows) == 25 and rows[0] == ("succeeded", "invoice.issued")  # number 29
    by_event = client.get(f"{base}?sort=event").text
    assert [event for _s, event in _column(by_event, "deliveries", EVENTS)][:10] == [
        "invoice.issued"
    ] * 10
    backwards = client.get(f"{base}?sort=-event").text
    assert [event for _s, event in _column(backwards, "deliveries", EVENTS)][:10] == [
        "order.paid"
    ] * 10
    paid = client.get(f"{base}?event=order.paid&sort=made").text
    assert {event for _s, event in _column(paid, "deliveries", EVENTS)} == {"order.paid"}
    assert len(_column(paid, "deliveries", EVENTS)) == 10
    assert f"{base}?event=order.paid&sort=-made" in _links(paid)
    failed = client.get(f"{base}?state=failed").text
    assert {state for state, _e in _column(failed, "deliveries", EVENTS)} == {"failed"}
    assert "Given up" in failed
    seen = 0
    url = f"{base}?sort=attempts"
    while url:
        page = client.get(url).text
        seen += len(_column(page, "deliveries", EVENTS))
        url = _next(page)
        if url:
            assert url == f"{base}?sort=attempts&cursor=25"
    assert seen == 30
    none = client.get(f"{base}?event=call.ended").text
    assert "No delivery matches this filter." in none
    assert html.unescape(none).count('id="filter-event"') == 1
    assert re.search(r'<option value="call.ended" selected>', none)
