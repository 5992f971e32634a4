"""The staff lists that sort in the database: the switch's security events and calls, the service
SMS, the portabilities and a customer's lists sort both ways by their headers, keep their filters
in the header links and page with a cursor that keeps the sort and the filters."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from tests.web.test_list_sorting import _column, _links, _staff
from voipdesk.switch.models import CallRecord, SecurityEvent

START = datetime(2026, 1, 1, 9, tzinfo=UTC)


def _next(page: str) -> str:
    """The link to the next page, or "" on the last page."""
    found = re.search(r'href="([^"]+)" rel="next"', page)
    return html.unescape(found.group(1)) if found else ""


def _events(platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        for number, (kind, ip, user) in enumerate(
            [
                ("auth_failed", "192.0.2.3", "bob"),
                ("banned", "192.0.2.1", None),
                ("auth_failed", "192.0.2.2", "alice"),
            ]
        ):
            session.add(
                SecurityEvent(
                    at=START + timedelta(hours=number), kind=kind, ip=ip, sip_username=user
                )
            )


ADDRESSES = r"<code>(192\.0\.2\.\d)</code>"


def test_security_events_sort_both_ways_and_keep_the_filters(client, platform) -> None:  # type: ignore[no-untyped-def]
    _events(platform)
    _staff(client, platform)

    newest = client.get("/backoffice/switch").text
    assert _column(newest, "security-events", ADDRESSES) == ["192.0.2.2", "192.0.2.1", "192.0.2.3"]
    oldest = client.get("/backoffice/switch?sort=when").text
    assert _column(oldest, "security-events", ADDRESSES) == ["192.0.2.3", "192.0.2.1", "192.0.2.2"]
    by_address = client.get("/backoffice/switch?sort=-address").text
    assert _column(by_address, "security-events", ADDRESSES) == [
        "192.0.2.3",
        "192.0.2.2",
        "192.0.2.1",
    ]
    by_user = client.get("/backoffice/switch?sort=user").text  # no user: last both ways
    assert _column(by_user, "security-events", ADDRESSES) == ["192.0.2.2", "192.0.2.3", "192.0.2.1"]
    by_user = client.get("/backoffice/switch?sort=-user").text
    assert _column(by_user, "security-events", ADDRESSES) == ["192.0.2.3", "192.0.2.2", "192.0.2.1"]

    failed = client.get("/backoffice/switch?kind=auth_failed&sort=address").text
    assert _column(failed, "security-events", ADDRESSES) == ["192.0.2.2", "192.0.2.3"]
    assert 'aria-sort="ascending"' in failed
    assert "/backoffice/switch?kind=auth_failed&sort=-address" in _links(failed)
    assert "/backoffice/switch?kind=auth_failed&sort=when" in _links(failed)
    assert 'name="sort" value="address"' in failed  # a new filter keeps the sort
    searched = client.get("/backoffice/switch?q=alice").text
    assert _column(searched, "security-events", ADDRESSES) == ["192.0.2.2"]
    unknown = client.get("/backoffice/switch?sort=detail").text  # not a sort: the default
    assert _column(unknown, "security-events", ADDRESSES) == ["192.0.2.2", "192.0.2.1", "192.0.2.3"]


def test_security_event_pages_keep_the_sort_and_the_filter(client, platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        for number in range(30):
            session.add(
                SecurityEvent(
                    at=START + timedelta(minutes=number),
                    kind="auth_failed" if number % 3 else "flood",
                    ip=f"198.51.100.{number}",
                )
            )
    _staff(client, platform)
    addresses = r"<code>(198\.51\.100\.\d+)</code>"
    first = client.get("/backoffice/switch?kind=auth_failed&sort=-address").text
    rows = _column(first, "security-events", addresses)
    assert len(rows) == 20  # one page holds them all (25 a page)
    seen: list[str] = []
    url = "/backoffice/switch?sort=address"
    while url:
        page = client.get(url).text
        seen += _column(page, "security-events", addresses)
        url = _next(page)
        if url:
            assert url == "/backoffice/switch?sort=address&cursor=25"
    assert seen == sorted(f"198.51.100.{n}" for n in range(30))
    filtered = client.get("/backoffice/switch?kind=flood&sort=address").text
    assert len(_column(filtered, "security-events", addresses)) == 10


def _calls(platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        for number, (caller, callee, code, seconds) in enumerate(
            [
                ("+33100000002", "+33600000009", 200, 95),
                ("+33100000001", "+33600000008", 486, 0),
                ("+33100000003", "+33700000007", 200, 9),
            ]
        ):
            session.add(
                CallRecord(
                    call_key=f"sort-{number}",
                    caller=caller,
                    callee=callee,
                    direction="outgoing",
                    route="trunk",
                    started_at=START + timedelta(hours=number),
                    duration_seconds=seconds,
                    disposition="answered" if code == 200 else "busy",
                    sip_code=code,
                )
            )


def test_calls_sort_both_ways_as_numbers_and_keep_the_filter(client, platform) -> None:  # type: ignore[no-untyped-def]
    _calls(platform)
    _staff(client, platform)
    keys = r'data-call="(sort-\d)"'

    assert _column(client.get("/backoffice/switch/calls").text, "latest-calls", keys) == [
        "sort-2",
        "sort-1",
        "sort-0",
    ]
    longest = client.get("/backoffice/switch/calls?sort=-duration").text
    assert _column(longest, "latest-calls", keys) == ["sort-0", "sort-2", "sort-1"]  # 95 > 9
    shortest = client.get("/backoffice/switch/calls?sort=duration").text
    assert _column(shortest, "latest-calls", keys) == ["sort-1", "sort-2", "sort-0"]
    by_caller = client.get("/backoffice/switch/calls?sort=caller").text
    assert _column(by_caller, "latest-calls", keys) == ["sort-1", "sort-0", "sort-2"]
    mobiles = client.get("/backoffice/switch/calls?q=%2B336&sort=-called").text
    assert _column(mobiles, "latest-calls", keys) == ["sort-0", "sort-1"]
    assert "/backoffice/switch/calls?q=%2B336&sort=called" in _links(mobiles)
    assert 'name="sort" value="-called"' in mobiles


def test_call_pages_keep_the_sort_and_the_filter(client, platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        for number in range(40):
            session.add(
                CallRecord(
                    call_key=f"page-{number:02}",
                    caller=f"+3310000{number:04}",
                    callee="+33600000000" if number % 2 else "+33700000000",
                    direction="outgoing",
                    route="trunk",
                    started_at=START + timedelta(minutes=number),
                    duration_seconds=number,
                    disposition="answered",
                    sip_code=200,
                )
            )
    _staff(client, platform)
    keys = r'data-call="(page-\d+)"'
    first = client.get("/backoffice/switch/calls?q=%2B337&sort=-duration").text
    assert _column(first, "latest-calls", keys) == [f"page-{n:02}" for n in range(38, -1, -2)]
    assert _next(first) == ""  # 20 calls to +337: one page
    all_first = client.get("/backoffice/switch/calls?sort=-duration").text
    assert _next(all_first) == "/backoffice/switch/calls?sort=-duration&cursor=25"
    second = client.get(_next(all_first)).text
    assert _column(second, "latest-calls", keys) == [f"page-{n:02}" for n in range(14, -1, -1)]
    # the headers of the second page start again from the first page, keeping the filter
    assert "/backoffice/switch/calls?sort=duration" in _links(second)
    filtered = client.get("/backoffice/switch/calls?q=%2B33&sort=caller").text
    assert _next(filtered) == "/backoffice/switch/calls?q=%2B33&sort=caller&cursor=25"
    last = client.get(_next(filtered)).text
    assert _column(last, "latest-calls", keys) == [f"page-{n:02}" for n in range(25, 40)]


def test_service_sms_sort_both_ways_by_date_customer_and_number_and_keep_the_filters(
    client, platform
) -> None:  # type: ignore[no-untyped-def]
    from tests.accounts.factories import make_account
    from voipdesk.accounts.models import ServiceSms

    zed = make_account(platform, handle="zz-smssort")
    amy = make_account(platform, handle="aa-smssort")
    with platform.transaction() as session:
        for number, (owner, to, status) in enumerate(
            [(zed, "+33600000003", "stored"), (amy, "+33600000001", "sent"),
             (zed, "+33600000002", "stored"), (amy, "+33700000004", "stored")]
        ):  # fmt: skip
            session.add(
                ServiceSms(
                    account_id=owner.id,
                    kind="test",
                    to_number=to,
                    body=f"sms {number}",
                    created_at=START + timedelta(hours=number),
                    status=status,
                )
            )
    _staff(client, platform)
    bodies = r'class="sms-body">(sms \d)</td>'

    newest = client.get("/backoffice/sms").text
    assert _column(newest, "sms", bodies) == ["sms 3", "sms 2", "sms 1", "sms 0"]
    oldest = client.get("/backoffice/sms?sort=date").text
    assert _column(oldest, "sms", bodies) == ["sms 0", "sms 1", "sms 2", "sms 3"]
    by_number = client.get("/backoffice/sms?sort=-to").text
    assert _column(by_number, "sms", bodies) == ["sms 3", "sms 0", "sms 2", "sms 1"]
    by_customer = client.get("/backoffice/sms?q=smssort&sort=customer").text
    assert _column(by_customer, "sms", bodies) == ["sms 1", "sms 3", "sms 0", "sms 2"]
    assert "/backoffice/sms?q=smssort&sort=-customer" in _links(by_customer)

    stored = client.get("/backoffice/sms?state=stored&q=%2B336&sort=-date").text
    assert _column(stored, "sms", bodies) == ["sms 2", "sms 0"]
    assert "/backoffice/sms?state=stored&q=%2B336&sort=date" in _links(stored)
    assert 'name="sort" value="-date"' in stored  # a new filter keeps the sort
    nothing = client.get("/backoffice/sms?state=queued").text
    assert "No SMS matches these filters." in nothing


def test_service_sms_pages_keep_the_sort_and_the_filter(client, platform) -> None:  # type: ignore[no-untyped-def]
    from tests.accounts.factories import make_account
    from voipdesk.accounts.models import ServiceSms

    owner = make_account(platform)
    with platform.transaction() as session:
        for number in range(60):
            session.add(
                ServiceSms(
                    account_id=owner.id,
                    kind="test",
                    to_number=f"+336000000{number:02}",
                    body=f"page sms {number:02}",
                    created_at=START + timedelta(minutes=number),
                    status="sent" if number % 2 else "stored",
                )
            )
    _staff(client, platform)
    bodies = r'class="sms-body">page sms (\d+)</td>'
    seen: list[str] = []
    url = "/backoffice/sms?state=sent&sort=to"
    while url:
        page = client.get(url).text
        seen += _column(page, "sms", bodies)
        url = _next(page)
        assert url in ("", "/backoffice/sms?state=sent&sort=to&cursor=25")
    assert seen == [f"{n:02}" for n in range(1, 60, 2)]


def _portabilities(client, count: int = 3):  # type: ignore[no-untyped-def]
    from datetime import date

    from tests.telephony_line.helpers import setup
    from voipdesk.telephony.portability.models import Portability

    platform, customer, group, _lines = setup(client)
    steps = ["validated", "form_sent", "received"]
    operators = ["SFR", "Bouygues", "Orange"]
    with platform.transaction() as session:
        for number in range(count):
            session.add(
                Portability(
                    reference=f"PO-SORT{number:02}",
                    billing_group_id=group,
                    account_id=customer.id,
                    country="FR",
                    numbers=[f"+331456789{number:02}"],
                    current_operator=operators[number % 3],
                    holder_kind="individual",
                    holder_name="Camille Martin",
                    desired_date=date(2026, 3, 10 - number % 3) if number % 3 else None,
                    step=steps[number % 3],
                    created_at=START + timedelta(days=number),
                    created_by="test",
                    updated_at=START + timedelta(days=number),
                )
            )
    return platform


REFERENCES = r'<h2 id="p-[^"]+">(PO-SORT\d+)'


def _references(page: str) -> list[str]:
    return _column(page, "staff-portabilities", REFERENCES)


def test_staff_portabilities_sort_both_ways_and_keep_the_filters(client) -> None:  # type: ignore[no-untyped-def]
    platform = _portabilities(client)
    _staff(client, platform)

    oldest = client.get("/backoffice/portabilities").text
    assert _references(oldest) == ["PO-SORT00", "PO-SORT01", "PO-SORT02"]
    newest = client.get("/backoffice/portabilities?sort=-received").text
    assert _references(newest) == ["PO-SORT02", "PO-SORT01", "PO-SORT00"]
    by_step = client.get("/backoffice/portabilities?sort=step").text  # the timeline's order
    assert _references(by_step) == ["PO-SORT01", "PO-SORT02", "PO-SORT00"]
    by_operator = client.get("/backoffice/portabilities?sort=-operator").text
    assert _references(by_operator) == ["PO-SORT00", "PO-SORT02", "PO-SORT01"]
    by_date = client.get("/backoffice/portabilities?sort=desired").text  # none: last
    assert _references(by_date) == ["PO-SORT02", "PO-SORT01", "PO-SORT00"]
    assert 'aria-current="true"' in by_date

    searched = client.get("/backoffice/portabilities?q=145678901&sort=-received").text
    assert _references(searched) == ["PO-SORT01"]
    at_step = client.get("/backoffice/portabilities?step=validated&q=PO-SORT&sort=reference").text
    assert _references(at_step) == ["PO-SORT00"]
    assert "/backoffice/portabilities?step=validated&q=PO-SORT&sort=-reference" in _links(at_step)
    assert 'name="sort" value="reference"' in at_step
    nothing = client.get("/backoffice/portabilities?q=PO-NONE").text
    assert "No portability matches these filters." in nothing


def test_staff_portability_pages_keep_the_sort_and_the_filter(client) -> None:  # type: ignore[no-untyped-def]
    platform = _portabilities(client, count=45)
    _staff(client, platform)
    seen: list[str] = []
    url = "/backoffice/portabilities?q=PO-SORT&sort=-received"
    while url:
        page = client.get(url).text
        seen += _references(page)
        url = _next(page)
        assert url in (
            "",
            "/backoffice/portabilities?q=PO-SORT&sort=-received&cursor=20",
            "/backoffice/portabilities?q=PO-SORT&sort=-received&cursor=40",
        )
    assert seen == [f"PO-SORT{n:02}" for n in range(44, -1, -1)]
