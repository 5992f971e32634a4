"""The spending cap's defaults and limits as catalogue data (staff set them from a date), the
new-customer rule, a cap below what is spent refused with nothing stored, and the warnings
re-armed when the cap is raised, each sent once per arming across a moved clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.accounts.factories import api_token_for, make_account
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from voipdesk.accounts.models import ServiceEmail
from voipdesk.consumption.models import SpendingCap
from voipdesk.consumption.services import rate_everything_pending
from voipdesk.subscriptions.models import ServiceEvent
from voipdesk.telephony.queries import routing_record_for

POLICY = {
    "default": "60.00",
    "maximum": "900.00",
    "new_customer_default": "20.00",
    "new_customer_maximum": "80.00",
    "minimum": "10.00",
    "new_customer_days": 30,
}


def _auth(client, account):
    return {"Authorization": f"Bearer {api_token_for(client, account)}", "Accept-Language": "en"}


def _cap(client, group, headers):
    return client.get(f"/api/v1/telephony/{group}/spending-cap", headers=headers).json()


def _put(client, group, headers, amount):
    return client.put(
        f"/api/v1/telephony/{group}/spending-cap", json={"amount": amount}, headers=headers
    )


def test_staff_set_the_limits_from_a_date_and_new_customers_get_the_lower_ones(client, clock):
    platform = client.app.state.platform
    staff = _auth(client, make_account(platform, is_staff=True))
    account = make_account(platform)
    group = deliver(platform, account.id, lines=[("sip-decouverte", 2)]).billing_group_id
    headers = _auth(client, account)
    url = "/api/v1/backoffice/catalogue/spending-cap"
    assert client.get(url, headers=headers).status_code == 403
    built_in = client.get(url, headers=staff).json()
    assert built_in["in_force"]["valid_from"] is None and built_in["items"] == []
    # Refused, nothing stored: disordered limits, a date in the past.
    today = platform.today().isoformat()
    disordered = {**POLICY, "new_customer_maximum": "1000.00", "valid_from": today}
    bad = client.post(url, json=disordered, headers=staff)
    assert bad.status_code == 422 and bad.json()["type"].endswith("spending-cap-policy-invalid")
    past = client.post(
        url, json={**POLICY, "valid_from": (platform.today() - timedelta(days=1)).isoformat()},
        headers=staff,
    )  # fmt: skip
    assert past.status_code == 422
    assert client.get(url, headers=staff).json()["items"] == []
    later = (platform.today() + timedelta(days=2)).isoformat()
    made = client.post(url, json={**POLICY, "valid_from": later}, headers=staff)
    assert made.status_code == 201, made.text
    # Not in force before its date: the built-in ones still apply.
    cap = _cap(client, group, headers)
    assert cap["amount"]["amount"] == "30.00" and cap["maximum"]["amount"] == "200.00"
    clock.advance(timedelta(days=2))
    cap = _cap(client, group, headers)
    assert cap["new_customer"] is True and cap["is_default"] is True
    assert (cap["amount"]["amount"], cap["minimum"]["amount"], cap["maximum"]["amount"]) == (
        "20.00",
        "10.00",
        "80.00",
    )
    refused = _put(client, group, headers, "100.00")
    assert refused.status_code == 422 and "80.00" in refused.json()["detail"]
    assert _put(client, group, headers, "9.00").status_code == 422
    # 30 days after sign-up the account is no longer new: the higher default and maximum.
    clock.advance(timedelta(days=29))
    cap = _cap(client, group, headers)
    assert cap["new_customer"] is False and cap["amount"]["amount"] == "60.00"
    assert _put(client, group, headers, "100.00").status_code == 200
    listed = client.get(url, headers=staff).json()
    assert [i["valid_from"] for i in listed["items"]] == [later]
    assert listed["in_force"]["new_customer_days"] == 30


def test_below_spent_refused_nothing_stored_and_warnings_rearmed_when_raised(client, clock):
    platform = client.app.state.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-decouverte", 2)])
    group, number = result.billing_group_id, result.sip_credentials[0].number_e164
    headers = _auth(client, account)

    def subjects():
        with platform.session() as session:
            return list(
                session.scalars(
                    select(ServiceEmail.subject)
                    .where(
                        ServiceEmail.account_id == account.id, ServiceEmail.kind == "spending_cap"
                    )
                    .order_by(ServiceEmail.created_at, ServiceEmail.id)
                )
            )

    def history():
        with platform.session() as session:
            return session.scalar(
                select(func.count())
                .select_from(ServiceEvent)
                .where(
                    ServiceEvent.billing_group_id == group, ServiceEvent.what.like("spending cap:%")
                )
            )

    def blocked():
        with platform.session() as session:
            return routing_record_for(session, number).record["limits"]["spending_cap_reached"]

    assert _put(client, group, headers, "10.00").status_code == 200
    assert history() == 1
    # 105 min to a mobile at 0.10: 10.50 EUR, every threshold, blocked.
    store(platform, call(number, group, "+33612345678", clock.now(), 105 * 60))
    rate_everything_pending(platform)
    assert sorted(s[:4] for s in subjects() if "blocked" not in s) == ["50 %", "80 %", "90 %"]
    assert sum("blocked" in s for s in subjects()) == 1 and len(subjects()) == 4
    assert blocked() is True
    # Below what is spent: refused, naming the amount; nothing stored, no history entry.
    low = _put(client, group, headers, "10.50")
    assert low.status_code == 422 and low.json()["type"].endswith("spending-cap-below-spent")
    assert "10.50" in low.json()["detail"]
    with platform.session() as session:
        assert session.get(SpendingCap, group).amount == 10
    assert history() == 1 and blocked() is True
    # Raised to 30: 35 %, below every threshold: the block lifts at once, all re-armed.
    clock.advance(timedelta(days=1))
    raised = _put(client, group, headers, "30.00")
    assert raised.status_code == 200 and raised.json()["reached"] is False
    assert raised.json()["warnings_sent"] == [] and blocked() is False
    assert len(subjects()) == 4  # raising sends nothing
    # 50 more minutes: 15.50 = 51 %: the 50 % warning again, once however often rated.
    clock.advance(timedelta(days=2))
    store(platform, call(number, group, "+33612345678", clock.now(), 50 * 60))
    rate_everything_pending(platform)
    clock.advance(timedelta(hours=5))
    rate_everything_pending(platform)
    assert len(subjects()) == 5 and sum(s.startswith("50 %") for s in subjects()) == 2
    # 150 more: 30.50, over the new cap: 80, 90 and the block again, each once.
    clock.advance(timedelta(days=3))
    store(platform, call(number, group, "+33612345678", clock.now(), 150 * 60))
    rate_everything_pending(platform)
    rate_everything_pending(platform)
    assert len(subjects()) == 8 and blocked() is True
    assert sum("blocked" in s for s in subjects()) == 2
    # The block and its lift are in the group's history (who: the system; when).
    with platform.session() as session:
        states = list(
            session.scalars(
                select(ServiceEvent.what)
                .where(
                    ServiceEvent.billing_group_id == group,
                    ServiceEvent.actor == "system:spending-cap",
                )
                .order_by(ServiceEvent.id)
            )
        )
    assert [w.split(" (")[0] for w in states] == [
        "spending cap reached: calls beyond the plan blocked",
        "spending cap lifted",
        "spending cap reached: calls beyond the plan blocked",
    ]
