"""The telephony settings API of a line, on both databases: SIP password, forwarding (and its
refusals, nothing stored), call settings, restrictions, options, history, routing record."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import func, select

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.outbox import drain
from voipdesk.payments.provider import TEST_CARD_SUCCEEDS
from voipdesk.subscriptions.models import Service
from voipdesk.subscriptions.rules import digest_ha1
from voipdesk.telephony.queries import routing_record_for

CARD = {"number": TEST_CARD_SUCCEEDS, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _auth(client, account, language="en"):
    return {
        "Authorization": f"Bearer {api_token_for(client, account)}",
        "Accept-Language": language,
    }


def _setup(client, lines=2, aliases=1):
    platform = client.app.state.platform
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)] * lines, aliases=aliases)
    numbers = [c.number_e164 for c in result.sip_credentials]
    return platform, account, result.billing_group_id, numbers


def _url(group, number, tail=""):
    return f"/api/v1/telephony/{group}/lines/{quote(number)}{tail}"


def _record(platform, key):
    with platform.session() as session:
        return routing_record_for(session, key)


def test_new_sip_password_shown_once_only_its_ha1_kept(client):
    platform, account, group, (number, _other) = _setup(client)
    headers = _auth(client, account)
    before = _record(platform, number.lstrip("+"))
    # A delivered line has no password yet (none was mailed): the customer makes it here.
    assert before is not None and before.record["sip"]["ha1"] is None
    info = client.get(_url(group, number, "/sip-account"), headers=headers)
    assert info.status_code == 200, info.text
    assert info.json() == {
        "username": number.lstrip("+"),
        "domain": platform.settings.sip_domain,
        "port": 5060,
        "transport": "udp",
        "password_set": False,
    }
    answer = client.post(_url(group, number, "/sip-password"), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    password = answer.json()["password"]
    assert len(password) >= 20
    realm = platform.settings.sip_domain
    with platform.session() as session:
        line = session.scalar(select(Service).where(Service.number_e164 == number))
        assert line.sip_ha1 == digest_ha1(line.sip_username, realm, password)
        assert password not in str(line.__dict__)
    after = _record(platform, number.lstrip("+"))
    # The switch sees the new HA1 at once (the old password is refused from the next call on).
    assert after.record["sip"]["ha1"] == digest_ha1(number.lstrip("+"), realm, password)
    assert after.version == before.version + 1
    again = client.post(_url(group, number, "/sip-password"), headers=headers).json()["password"]
    assert again != password
    shown = client.get(_url(group, number, "/sip-account"), headers=headers).json()
    assert "password" not in shown and shown["password_set"] is True


def test_forward_set_shown_in_record_and_cleared(client):
    platform, account, group, (number, other) = _setup(client)
    headers = _auth(client, account)
    answer = client.put(
        _url(group, number, "/forwarding/no_answer"),
        json={"target": "external", "number": "06 12 34 56 78", "delay": 15},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["no_answer"] == {
        "target": "external",
        "number": "+33612345678",
        "delay": 15,
    }
    busy = client.put(
        _url(group, number, "/forwarding/busy"),
        json={"target": "line", "number": other},
        headers=headers,
    )
    assert busy.json()["busy"] == {"target": "line", "number": other, "delay": None}
    record = _record(platform, number)
    assert record.record["forwards"]["no_answer"]["number"] == "+33612345678"
    assert record.record["forwards"]["busy"]["number"] == other
    assert client.get(_url(group, number, "/forwarding"), headers=headers).json()["busy"]
    cleared = client.delete(_url(group, number, "/forwarding/busy"), headers=headers)
    assert cleared.status_code == 200 and cleared.json()["busy"] is None
    assert "busy" not in _record(platform, number).record["forwards"]
    history = client.get(_url(group, number, "/history"), headers=headers).json()["items"]
    whats = [entry["what"] for entry in history]
    assert "forward busy off" in whats and any("no_answer -> +33612345678" in w for w in whats)
    assert whats[0] == "forward busy off"  # newest first
    assert {e["actor"] for e in history if "forward" in e["what"]} == {f"account:{account.id}"}


def test_bad_forwards_are_refused_by_their_rule_and_nothing_is_stored(client):
    platform, account, group, (number, other) = _setup(client)
    headers = _auth(client, account)
    client.put(
        _url(group, other, "/forwarding/unconditional"),
        json={"target": "line", "number": number},
        headers=headers,
    )
    version = _record(platform, number).version
    cases = [
        ({"target": "external", "number": number}, "unconditional", 422, "forward-to-itself"),
        ({"target": "line", "number": other}, "busy", 409, "forward-loop"),
        ({"target": "external", "number": "12"}, "busy", 422, "invalid-number"),
        ({"target": "external", "number": "+33612345678", "delay": 61}, "no_answer", 422,
         "forward-delay-out-of-range"),
        ({"target": "external"}, "busy", 422, "forward-number-missing"),
    ]  # fmt: skip
    for body, condition, status, code in cases:
        answer = client.put(
            _url(group, number, f"/forwarding/{condition}"), json=body, headers=headers
        )
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith(code)
    loop = client.put(
        _url(group, number, "/forwarding/busy"),
        json={"target": "line", "number": other},
        headers=_auth(client, account, "fr"),
    ).json()
    assert "boucle" in loop["detail"] and number in loop["detail"]
    assert client.get(_url(group, number, "/forwarding"), headers=headers).json() == {
        "unconditional": None,
        "busy": None,
        "no_answer": None,
        "unreachable": None,
    }
    assert _record(platform, number).version == version


def test_another_customers_line_answers_404(client):
    platform, _account, group, (number, _other) = _setup(client)
    stranger = make_account(platform)
    answer = client.put(
        _url(group, number, "/forwarding/busy"),
        json={"target": "voicemail"},
        headers=_auth(client, stranger),
    )
    assert answer.status_code == 404
    assert (
        client.post(
            _url(group, number, "/sip-password"), headers=_auth(client, stranger)
        ).status_code
        == 404
    )


def test_call_settings_and_restrictions(client):
    platform, account, group, (number, _other) = _setup(client, aliases=2)
    headers = _auth(client, account)
    with platform.session() as session:
        alias = session.scalar(
            select(Service.number_e164).where(
                Service.billing_group_id == group, Service.kind == "alias_number"
            )
        )
    answer = client.patch(
        _url(group, number, "/call-settings"),
        json={"do_not_disturb": True, "reject_anonymous": True, "caller_id": "alias",
              "caller_id_number": alias},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "do_not_disturb": True,
        "reject_anonymous": True,
        "caller_id": "alias",
        "caller_id_number": alias,
        "blocked_callers": [],
    }
    refused = client.patch(
        _url(group, number, "/call-settings"),
        json={"caller_id": "alias", "caller_id_number": "+33612345678"},
        headers=headers,
    )
    assert refused.status_code == 422 and refused.json()["type"].endswith("caller-id-not-an-alias")
    restrictions = client.patch(
        _url(group, number, "/restrictions"),
        json={"block_international": True, "number_list_mode": "block",
              "number_list": ["0899", "+33612345678"],
              "allowed_ips": ["203.0.113.7", "198.51.100.0/24"]},
        headers=headers,
    )  # fmt: skip
    assert restrictions.status_code == 200, restrictions.text
    assert restrictions.json()["number_list"] == ["+33899", "+33612345678"]
    assert restrictions.json()["allowed_ips"] == ["203.0.113.7", "198.51.100.0/24"]
    bad = client.patch(
        _url(group, number, "/restrictions"), json={"allowed_ips": ["300.1.1.1"]}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["type"].endswith("invalid-address")
    record = _record(platform, number).record
    assert record["do_not_disturb"] is True and record["reject_anonymous"] is True
    assert record["caller_id"] == {"mode": "alias", "number": alias}
    assert record["limits"]["international"] is False
    assert record["sip"]["allowed_ips"] == ["203.0.113.7", "198.51.100.0/24"]


def test_option_ordered_then_removed_at_renewal(client):
    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    platform, account, group, (number, _other) = _setup(client)
    headers = _auth(client, account)
    listed = client.get(_url(group, number, "/options"), headers=headers).json()["items"]
    assert {o["code"] for o in listed} >= {"option-mobile-hours-10"}
    assert not any(o["on_line"] for o in listed)
    ordered = client.post(
        _url(group, number, "/options"), json={"option": "option-mobile-hours-10"}, headers=headers
    )
    assert ordered.status_code == 201, ordered.text
    assert "once it is paid" in ordered.json()["message"]
    # Not paid yet: the line does not have it.
    listed = client.get(_url(group, number, "/options"), headers=headers).json()["items"]
    assert not any(o["on_line"] for o in listed)
    order_id = ordered.json()["order_id"]
    paid = client.post(f"/api/v1/orders/{order_id}/payments", json={"card": CARD}, headers=headers)
    assert paid.status_code == 201, paid.text
    drain(platform)
    drain(platform)  # a repeated delivery adds nothing
    listed = client.get(_url(group, number, "/options"), headers=headers).json()["items"]
    assert [o["code"] for o in listed if o["on_line"]] == ["option-mobile-hours-10"]
    with platform.session() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Service).where(Service.kind == "option")
            )
            == 1
        )
    assert _record(platform, number).record["options"] == ["option-mobile-hours-10"]
    removed = client.delete(_url(group, number, "/options/option-mobile-hours-10"), headers=headers)
    assert removed.status_code == 200, removed.text
    assert removed.json()["effective_on"] == "2026-04-01"
    listed = client.get(_url(group, number, "/options"), headers=headers).json()["items"]
    assert [o["code"] for o in listed if o["ends_at_renewal"]] == ["option-mobile-hours-10"]
    from datetime import date

    from voipdesk.billing.renewal import run_renewal

    run_renewal(platform, date(2026, 4, 1))
    assert _record(platform, number).record["options"] == []


def test_suspension_and_termination_reach_the_record(client):
    platform, account, group, (number, _other) = _setup(client)
    headers = _auth(client, account)
    answer = client.post(
        _url(group, number, "/termination"),
        json={"reason": "move"},
        headers=headers,
    )
    assert answer.status_code in (200, 201), answer.text
    assert _record(platform, number).record["accepts_calls"] is True
    from datetime import date

    from voipdesk.billing.renewal import run_renewal

    run_renewal(platform, date(2026, 4, 1))
    record = _record(platform, number)
    assert record.record["state"] == "terminated" and record.record["accepts_calls"] is False


def test_an_alias_converted_to_a_line_gets_its_password_from_the_line_page(client):
    platform, account, group, _numbers = _setup(client, lines=1, aliases=1)
    headers = _auth(client, account)
    with platform.session() as session:
        alias = session.scalar(
            select(Service.number_e164).where(
                Service.billing_group_id == group, Service.kind == "alias_number"
            )
        )
    assert _record(platform, alias).record["alias_configuration"] is None
    converted = client.post(
        f"/api/v1/telephony/{group}/numbers/{quote(alias)}/conversion",
        json={"offer": "sip-entreprise", "accept_contracts": True},
        headers=headers,
    )
    assert converted.status_code in (200, 201), converted.text
    from datetime import date

    from voipdesk.billing.renewal import run_renewal

    run_renewal(platform, date(2026, 4, 1))
    record = _record(platform, alias)
    assert record.kind == "sip_line" and record.record["sip"]["ha1"] is None
    assert (
        client.get(_url(group, alias, "/sip-account"), headers=headers).json()["password_set"]
        is False
    )
    password = client.post(_url(group, alias, "/sip-password"), headers=headers).json()["password"]
    record = _record(platform, alias.lstrip("+"))
    assert record.record["sip"]["ha1"] == digest_ha1(
        alias.lstrip("+"), platform.settings.sip_domain, password
    )
