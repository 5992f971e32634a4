"""The consumption pages through the application: the line's Consumption tab (calls, totals,
search, block and allow a number), calls in progress, statements and the spending cap form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from tests.accounts.factories import PASSWORD, make_account
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from tests.web.conftest import csrf_from, login
from voipdesk.consumption.services import rate_everything_pending
from voipdesk.switch.models import ActiveCall
from voipdesk.telephony.queries import routing_record_for

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CALLER = "+33145678901"


def _line(client, language="en"):
    platform = client.app.state.platform
    account = make_account(platform, language=language)
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    number = result.sip_credentials[0].number_e164
    assert login(client, account.email, PASSWORD).status_code in (302, 303)
    return platform, account, result.billing_group_id, number


def test_consumption_tab_lists_calls_and_blocks_then_allows_a_caller(client):
    platform, _account, group, number = _line(client)
    store(
        platform,
        call(number, group, "", T0, 42, direction="incoming", caller=CALLER),
        call(number, group, "+33612345678", T0 + timedelta(minutes=3), 61),
    )
    rate_everything_pending(platform)
    base = f"/telephony/{group}/lines/{quote(number)}"
    page = client.get(f"{base}/consumption?month=2026-03")
    assert page.status_code == 200, page.text
    assert "01 45 67 89 01" in page.text and "06 12 34 56 78" in page.text
    assert "0.1017 €" in page.text and 'aria-current="page">Consumption' in page.text
    assert 'hx-get="' + base + '/calls-in-progress"' in page.text
    subscription = client.get(base)  # the line's first tab polls its calls in progress too
    assert 'hx-get="' + base + '/calls-in-progress"' in subscription.text
    assert f'href="{base}/consumption"' in subscription.text
    searched = client.get(f"{base}/consumption?month=2026-03&q=0145")
    assert "01 45 67 89 01" in searched.text and "06 12 34 56 78" not in searched.text
    answer = client.post(
        f"{base}/consumption/number-list",
        data={"csrf_token": csrf_from(page.text), "caller": CALLER, "operation": "block",
              "back": f"{base}/consumption?month=2026-03"},
        follow_redirects=True,
    )  # fmt: skip
    assert "01 45 67 89 01 can no longer call this line." in answer.text
    with platform.session() as session:
        record = routing_record_for(session, number).record
    assert record["blocked_callers"] == [CALLER] and record["limits"]["number_list"] == []
    assert re.search(
        r"Allow this number<span class=\"visually-hidden\"> 01 45 67 89 01", answer.text
    )
    allowed = client.post(
        f"{base}/consumption/number-list",
        data={"csrf_token": csrf_from(answer.text), "caller": CALLER, "operation": "allow"},
        follow_redirects=True,
    )
    assert "01 45 67 89 01 can call this line again." in allowed.text
    with platform.session() as session:
        record = routing_record_for(session, number).record
    assert record["blocked_callers"] == []


def test_calls_in_progress_fragment(client):
    platform, _account, group, number = _line(client)
    base = f"/telephony/{group}/lines/{quote(number)}"
    assert "Calls in progress" not in client.get(f"{base}/calls-in-progress").text
    with platform.transaction() as session:
        session.add(
            ActiveCall(call_key="live-1", caller=CALLER, callee=number, direction="incoming",
                       line_number=number, started_at=platform.now() - timedelta(seconds=12),
                       answered_at=None)
        )  # fmt: skip
    fragment = client.get(f"{base}/calls-in-progress").text
    assert "Calls in progress" in fragment and "01 45 67 89 01" in fragment
    assert "ringing for 0:12" in fragment


def test_spending_cap_page_and_statements_page_in_french(client):
    _platform, _account, group, _number = _line(client, language="fr")
    page = client.get(f"/telephony/{group}/spending-cap")
    assert page.status_code == 200 and "Plafond de dépenses" in page.text
    refused = client.post(
        f"/telephony/{group}/spending-cap",
        data={"csrf_token": csrf_from(page.text), "amount": "9999"},
    )
    assert refused.status_code == 422 and "entre" in refused.text
    saved = client.post(
        f"/telephony/{group}/spending-cap",
        data={"csrf_token": csrf_from(page.text), "amount": "45,50"},
        follow_redirects=True,
    )
    assert "Le plafond de dépenses est enregistré." in saved.text
    assert "45,50" in saved.text
    statements = client.get(f"/telephony/{group}/statements")
    assert statements.status_code == 200 and "Aucun relevé" in statements.text
    group_page = client.get(f"/telephony/{group}")
    assert f"/telephony/{group}/statements" in group_page.text


def test_staff_rate_page_adds_a_rate_and_rerates(client):
    platform = client.app.state.platform
    staff = make_account(platform, language="en", is_staff=True)
    assert login(client, staff.email, PASSWORD).status_code in (302, 303)
    page = client.get("/backoffice/consumption/rates")
    assert page.status_code == 200 and "No stored rate" in page.text
    saved = client.post(
        "/backoffice/consumption/rates",
        data={"csrf_token": csrf_from(page.text), "plan": "*", "destination": "mobile",
              "per_minute": "0,0800", "connection_fee": "0", "first_increment": "30",
              "next_increment": "1", "valid_from": "2026-03-01"},
        follow_redirects=True,
    )  # fmt: skip
    assert "The rate is saved." in saved.text and "0.0800" in saved.text
    bad = client.post(
        "/backoffice/consumption/rates",
        data={"csrf_token": csrf_from(page.text), "destination": "mobile", "per_minute": "x",
              "valid_from": "2026-03-01"},
    )  # fmt: skip
    assert bad.status_code == 422 and "malformed" in bad.text
    rerated = client.post(
        "/backoffice/consumption/rerating",
        data={"csrf_token": csrf_from(page.text), "month": "2026-03", "explanation": "Fix"},
        follow_redirects=True,
    )
    assert "2026-03 rated again: 0 billing groups" in rerated.text


def test_staff_page_sets_the_spending_cap_limits(client):
    platform = client.app.state.platform
    staff = make_account(platform, language="fr", is_staff=True)
    assert login(client, staff.email, PASSWORD).status_code in (302, 303)
    page = client.get("/backoffice/catalogue/spending-cap")
    assert page.status_code == 200 and "Aucune limite enregistrée" in page.text
    values = {"csrf_token": csrf_from(page.text), "default": "80", "maximum": "1500",
              "new_customer_default": "25", "new_customer_maximum": "150", "minimum": "5",
              "new_customer_days": "60", "valid_from": platform.today().isoformat()}  # fmt: skip
    bad = client.post(
        "/backoffice/catalogue/spending-cap", data={**values, "new_customer_default": "90"}
    )
    assert bad.status_code == 422 and "ne tiennent pas" in bad.text
    saved = client.post("/backoffice/catalogue/spending-cap", data=values, follow_redirects=True)
    assert "Les limites du plafond de dépenses sont enregistrées." in saved.text
    assert 'id="policies"' in saved.text
    customer = make_account(platform)
    group = deliver(platform, customer.id, lines=[("sip-decouverte", 2)]).billing_group_id
    with platform.session() as session:
        from voipdesk.consumption import actions

        assert actions.cap_of(session, platform, group) == 25  # a new customer, by the page's
