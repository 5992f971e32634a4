"""Star codes dialled on the phone go through the same use cases as the page and the API: a
change from the phone shows on the page and in the API at once, and the reverse; refusals are
the same rules."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.accounts.factories import PASSWORD, api_token_for, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import csrf_from, login
from voipdesk.core.errors import DomainError
from voipdesk.telephony.actions.star_codes import apply_star_code
from voipdesk.telephony.queries import routing_record_for


def _setup(client):
    platform = client.app.state.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)] * 2)
    numbers = [c.number_e164 for c in result.sip_credentials]
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}", "Accept-Language": "en"}
    return platform, account, result.billing_group_id, numbers, headers


def _dial(platform, number, dialled):
    with platform.transaction() as session:
        return apply_star_code(session, platform, number.lstrip("+"), dialled)


def _forwarding(client, group, number, headers):
    return client.get(
        f"/api/v1/telephony/{group}/lines/{quote(number)}/forwarding", headers=headers
    ).json()


def test_forward_by_star_code_shows_on_the_page_and_in_the_api(client):
    platform, account, group, (number, _other), headers = _setup(client)
    outcome = _dial(platform, number, "*21*0612345678#")
    assert (outcome.action, outcome.condition, outcome.number) == (
        "forward_on",
        "unconditional",
        "+33612345678",
    )
    assert _forwarding(client, group, number, headers)["unconditional"] == {
        "target": "external",
        "number": "+33612345678",
        "delay": None,
    }
    login(client, account.email, PASSWORD)
    page = client.get(f"/telephony/{group}/lines/{quote(number)}/calls")
    assert page.status_code == 200
    assert "06 12 34 56 78" in page.text
    assert "The phone (star code)" in page.text  # the history says who changed it
    with platform.session() as session:
        record = routing_record_for(session, number.lstrip("+"))
    assert record.record["forwards"]["unconditional"]["number"] == "+33612345678"
    history = client.get(
        f"/api/v1/telephony/{group}/lines/{quote(number)}/history", headers=headers
    ).json()["items"]
    assert history[0]["actor"] == f"phone:{number.lstrip('+')}"

    _dial(platform, number, "#21#")
    assert _forwarding(client, group, number, headers)["unconditional"] is None


def test_a_forward_set_on_the_page_is_turned_off_by_the_phone(client):
    platform, account, group, (number, _other), headers = _setup(client)
    login(client, account.email, PASSWORD)
    url = f"/telephony/{group}/lines/{quote(number)}/calls"
    page = client.get(url)
    answer = client.post(
        f"{url}/forwarding/busy",
        data={"csrf_token": csrf_from(page.text), "target": "external", "number": "0612345678"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert _forwarding(client, group, number, headers)["busy"]["number"] == "+33612345678"
    _dial(platform, number, "#67#")
    assert _forwarding(client, group, number, headers)["busy"] is None
    assert "06 12 34 56 78" not in client.get(url).text


def test_each_condition_and_do_not_disturb(client):
    platform, _account, group, (number, _other), headers = _setup(client)
    _dial(platform, number, "*67*0612345678#")
    _dial(platform, number, "*61*0612345679*30#")
    _dial(platform, number, "*62*0612345670#")
    forwarding = _forwarding(client, group, number, headers)
    assert forwarding["busy"]["number"] == "+33612345678"
    assert forwarding["no_answer"] == {"target": "external", "number": "+33612345679", "delay": 30}
    assert forwarding["unreachable"]["number"] == "+33612345670"
    for code in ("#67#", "#61#", "#62#"):
        _dial(platform, number, code)
    assert all(v is None for v in _forwarding(client, group, number, headers).values())
    settings_url = f"/api/v1/telephony/{group}/lines/{quote(number)}/call-settings"
    _dial(platform, number, "*26#")
    assert client.get(settings_url, headers=headers).json()["do_not_disturb"] is True
    _dial(platform, number, "#26#")
    assert client.get(settings_url, headers=headers).json()["do_not_disturb"] is False


def test_hide_caller_id_for_one_call_stores_nothing(client):
    platform, _account, _group, (number, _other), _headers = _setup(client)
    with platform.session() as session:
        version = routing_record_for(session, number).version
    outcome = _dial(platform, number, "*31#0612345678")
    assert (outcome.action, outcome.number, outcome.stored) == (
        "hide_caller_id_once",
        "+33612345678",
        False,
    )
    with platform.session() as session:
        assert routing_record_for(session, number).version == version


def test_refusals_from_the_phone_are_the_page_rules(client):
    platform, _account, group, (number, other), headers = _setup(client)
    _dial(platform, other, f"*21*{number}#")
    for dialled, code in (
        (f"*21*{number}#", "forward-to-itself"),
        (f"*67*{other}#", "forward-loop"),
        ("*21*12#", "invalid-number"),
        ("*61*0612345678*90#", "forward-delay-out-of-range"),
        ("*99#", "unknown-star-code"),
    ):
        with pytest.raises(DomainError) as caught:
            _dial(platform, number, dialled)
        assert caught.value.code == code, dialled
    assert all(v is None for v in _forwarding(client, group, number, headers).values())


def test_the_command_line_applies_a_star_code_like_the_switch(platform):
    from typer.testing import CliRunner

    from voipdesk.cli import app

    account = make_account(platform)
    number = deliver(platform, account.id, lines=[("sip-entreprise", 2)]).sip_credentials[0]
    user = number.number_e164.lstrip("+")
    url = platform.settings.database_url
    done = CliRunner().invoke(app, ["star-code", user, "*62*0612345678#", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert "forward_on unreachable -> +33612345678" in done.output
    with platform.session() as session:
        record = routing_record_for(session, user).record
    assert record["forwards"]["unreachable"]["number"] == "+33612345678"
    refused = CliRunner().invoke(app, ["star-code", user, f"*21*{user}#", "--database-url", url])
    assert refused.exit_code == 2 and "forward-to-itself" in refused.output
