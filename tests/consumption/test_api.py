"""The consumption API on both databases: a line's call log (totals, search, pages, CSV), the
spending cap (limits, refusals, warnings), the staff's rates, re-rating and CSV import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select

from tests.accounts.factories import api_token_for, make_account
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from voipdesk.accounts.models import ServiceEmail
from voipdesk.consumption.services import rate_everything_pending
from voipdesk.telephony.queries import routing_record_for

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _auth(client, account, language="en"):
    return {
        "Authorization": f"Bearer {api_token_for(client, account)}",
        "Accept-Language": language,
    }


def _setup(client, offer="sip-entreprise", options=None):
    platform = client.app.state.platform
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[(offer, 2)], options=options)
    number = result.sip_credentials[0].number_e164
    return platform, account, result.billing_group_id, number


def _url(group, number, tail=""):
    return f"/api/v1/telephony/{group}/lines/{quote(number)}/consumption{tail}"


def test_call_log_rated_with_totals_search_pages_and_csv(client):
    platform, account, group, number = _setup(client)
    store(
        platform,
        call(number, group, "+33123456789", T0, 125),  # fixed: included in sip-entreprise
        call(number, group, "+33612345678", T0 + timedelta(minutes=5), 61),  # mobile: 61 s
        call(number, group, "+33612345678", T0 + timedelta(minutes=9), 0, disposition="busy"),
        call(number, group, "", T0 + timedelta(minutes=20), 30, direction="incoming"),
    )
    rate_everything_pending(platform)
    headers = _auth(client, account)
    answer = client.get(_url(group, number, "?month=2026-03"), headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"]["calls"] == 4
    assert body["totals"]["outgoing"] == 3 and body["totals"]["incoming"] == 1
    # 61 s to a mobile: 60 s then per second = 61 s at 0.10/min = 0.1017 -> 0.10 EUR the month.
    assert body["totals"]["price_excl_tax"] == {"amount": "0.10", "currency": "EUR"}
    by_callee = {(i["number"], i["disposition"]): i for i in body["items"]}
    fixed = by_callee[("+33123456789", "answered")]
    assert fixed["destination"] == "fixed" and fixed["included_seconds"] == 125
    assert fixed["price_excl_tax"]["amount"] == "0.0000"
    mobile = by_callee[("+33612345678", "answered")]
    assert mobile["destination"] == "mobile" and mobile["billed_seconds"] == 61
    assert mobile["price_excl_tax"]["amount"] == "0.1017"
    assert by_callee[("+33612345678", "busy")]["billed_seconds"] == 0
    assert by_callee[("+33198765432", "answered")]["destination"] == "incoming"
    # Newest first, two a page, the cursor gives the rest.
    first = client.get(_url(group, number, "?month=2026-03&limit=2"), headers=headers).json()
    assert [i["started_at"][:16] for i in first["items"]] == [
        "2026-03-02T10:20",
        "2026-03-02T10:09",
    ]
    rest = client.get(
        _url(group, number, f"?month=2026-03&limit=2&cursor={first['next_cursor']}"),
        headers=headers,
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    # Searched in national format.
    found = client.get(_url(group, number, "?month=2026-03&q=06 12 34"), headers=headers).json()
    assert found["matching"] == 2 and {i["callee"] for i in found["items"]} == {"+33612345678"}
    csv_answer = client.get(_url(group, number, "/csv?month=2026-03"), headers=headers)
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    lines = csv_answer.text.strip().splitlines()
    assert lines[0].startswith("started_at,line_number,direction") and len(lines) == 5
    assert any(",mobile,61,0,0.1017" in line for line in lines)
    # Another month is empty; a bad month and someone else's line are refused.
    assert client.get(_url(group, number, "?month=2026-02"), headers=headers).json()["items"] == []
    assert client.get(_url(group, number, "?month=2026-3"), headers=headers).status_code == 422
    stranger = make_account(platform)
    assert client.get(_url(group, number), headers=_auth(client, stranger)).status_code == 404


def test_spending_cap_limits_warnings_once_and_block(client):
    platform, account, group, number = _setup(client, offer="sip-decouverte")
    headers = _auth(client, account)
    cap = client.get(f"/api/v1/telephony/{group}/spending-cap", headers=headers).json()
    # A new customer: the lower default and maximum.
    assert cap["amount"]["amount"] == "30.00" and cap["is_default"] is True
    assert cap["maximum"]["amount"] == "200.00" and cap["reached"] is False
    refused = client.put(
        f"/api/v1/telephony/{group}/spending-cap", json={"amount": "500.00"}, headers=headers
    )
    assert refused.status_code == 422 and refused.json()["type"].endswith(
        "spending-cap-out-of-range"
    )
    set_ = client.put(
        f"/api/v1/telephony/{group}/spending-cap", json={"amount": "10.00"}, headers=headers
    )
    assert set_.status_code == 200 and set_.json()["amount"]["amount"] == "10.00"
    # 60 min to a mobile = 6.00 EUR: 60 % -> the 50 % warning.
    store(platform, call(number, group, "+33612345678", T0, 3600))
    rate_everything_pending(platform)
    cap = client.get(f"/api/v1/telephony/{group}/spending-cap", headers=headers).json()
    assert cap["spent_beyond_plan"]["amount"] == "6.00" and cap["warnings_sent"] == [50]
    # Below what is spent: refused, nothing changed.
    low = client.put(
        f"/api/v1/telephony/{group}/spending-cap", json={"amount": "5.00"}, headers=headers
    )
    assert low.status_code == 422 and low.json()["type"].endswith("spending-cap-below-spent")
    # 45 more minutes: 10.50 EUR, every threshold; the switch's record says so.
    store(platform, call(number, group, "+33612345678", T0 + timedelta(hours=2), 2700))
    rate_everything_pending(platform)
    rate_everything_pending(platform)
    cap = client.get(f"/api/v1/telephony/{group}/spending-cap", headers=headers).json()
    assert cap["warnings_sent"] == [50, 80, 90, 100] and cap["reached"] is True
    with platform.session() as session:
        record = routing_record_for(session, number).record
        subjects = list(
            session.scalars(
                select(ServiceEmail.subject).where(
                    ServiceEmail.account_id == account.id, ServiceEmail.kind == "spending_cap"
                )
            )
        )
    assert record["limits"]["spending_cap_reached"] is True
    assert len(subjects) == 4 and sum("bloqués" in s for s in subjects) == 1
    # Raised: calls beyond the plan pass again at once.
    raised = client.put(
        f"/api/v1/telephony/{group}/spending-cap", json={"amount": "50.00"}, headers=headers
    )
    assert raised.status_code == 200 and raised.json()["reached"] is False
    with platform.session() as session:
        assert routing_record_for(session, number).record["limits"]["spending_cap_reached"] is False


def test_staff_rates_rerating_and_import(client):
    platform, account, group, number = _setup(client, offer="sip-decouverte")
    staff = make_account(platform, is_staff=True)
    staff_headers = _auth(client, staff)
    assert (
        client.get(
            "/api/v1/backoffice/consumption/rates", headers=_auth(client, account)
        ).status_code
        == 403
    )
    csv_body = (
        "call_key,caller,callee,direction,line_number,started_at,duration_seconds,disposition\n"
        f"imp-1,{number},+33612345678,outgoing,{number},2026-03-02T11:00:00+01:00,120,answered\n"
        f"imp-2,{number},+14155552671,outgoing,{number},2026-03-02T11:10:00Z,30,answered\n"
    )
    headers = staff_headers

    def upload(text):
        return {"file": ("calls.csv", text.encode(), "text/csv")}

    first = client.post("/api/v1/backoffice/consumption/imports", files=upload(csv_body),
                        headers=headers)  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json() == {"read": 2, "stored": 2, "already_known": 0}
    again = client.post("/api/v1/backoffice/consumption/imports", files=upload(csv_body),
                        headers=headers)  # fmt: skip
    assert again.json() == {"read": 2, "stored": 0, "already_known": 2}
    bad = client.post(
        "/api/v1/backoffice/consumption/imports",
        files=upload(csv_body.replace("answered\n", "maybe\n", 1)),
        headers=headers,
    )
    assert bad.status_code == 422 and "Line 2" in bad.json()["detail"]
    log = client.get(_url(group, number, "?month=2026-03"), headers=_auth(client, account)).json()
    # 120 s mobile 0.20; 30 s North America: 60 s first increment at 0.05 = 0.05.
    assert log["totals"]["price_excl_tax"]["amount"] == "0.25"
    rate = client.post(
        "/api/v1/backoffice/consumption/rates",
        json={"destination": "mobile", "per_minute": "0.0500", "valid_from": "2026-03-01"},
        headers=staff_headers,
    )
    assert rate.status_code == 201, rate.text
    unknown = client.post(
        "/api/v1/backoffice/consumption/rates",
        json={"destination": "moon", "per_minute": "1", "valid_from": "2026-03-01"},
        headers=staff_headers,
    )
    assert unknown.status_code == 422
    rerated = client.post(
        "/api/v1/backoffice/consumption/rerating",
        json={"month": "2026-03", "explanation": "Mobile rate corrected"},
        headers=staff_headers,
    )
    assert rerated.status_code == 200, rerated.text
    log = client.get(_url(group, number, "?month=2026-03"), headers=_auth(client, account)).json()
    assert log["totals"]["price_excl_tax"]["amount"] == "0.15"
