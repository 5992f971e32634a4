"""The calls-management page: what a phone needs, a new password shown once, refusals shown with
their rule and nothing stored, settings saved; the star-codes help."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import csrf_from, login
from voipdesk.subscriptions.models import Service
from voipdesk.subscriptions.rules import digest_ha1


def _setup(client, language="en"):
    platform = client.app.state.platform
    account = make_account(platform, language=language)
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)] * 2)
    numbers = [c.number_e164 for c in result.sip_credentials]
    login(client, account.email, PASSWORD)
    return platform, result.billing_group_id, numbers


def test_sip_account_and_a_new_password_shown_once(client):
    platform, group, (number, _other) = _setup(client)
    url = f"/telephony/{group}/lines/{quote(number)}/calls"
    # The line's page (the delivery e-mail's link) leads to this tab.
    line_page = client.get(f"/telephony/{group}/lines/{quote(number)}")
    assert line_page.status_code == 200 and url in line_page.text
    page = client.get(url)
    assert page.status_code == 200
    assert platform.settings.sip_domain in page.text and ">5060<" in page.text
    assert f'<code id="sip-username">{number.lstrip("+")}</code>' in page.text
    assert 'data-copy="sip-username"' in page.text and "<script>" not in page.text
    made = client.post(f"{url}/sip-password", data={"csrf_token": csrf_from(page.text)})
    assert made.status_code == 200
    password = made.text.split('<code id="sip-password">')[1].split("</code>")[0]
    assert len(password) == 24 and "shown only this once" in made.text
    with platform.session() as session:
        line = session.scalar(select(Service).where(Service.number_e164 == number))
        assert line.sip_ha1 == digest_ha1(line.sip_username, platform.settings.sip_domain, password)
    assert password not in client.get(url).text  # never shown again


def test_forward_refused_on_the_page_names_the_rule(client):
    _platform, group, (number, other) = _setup(client, language="fr")
    url = f"/telephony/{group}/lines/{quote(number)}/calls"
    page = client.get(url)
    token = csrf_from(page.text)
    client.post(
        f"/telephony/{group}/lines/{quote(other)}/calls/forwarding/unconditional",
        data={"csrf_token": token, "target": "line", "line_number": number},
    )
    refused = client.post(
        f"{url}/forwarding/busy",
        data={"csrf_token": token, "target": "line", "line_number": other},
    )
    assert refused.status_code == 409
    assert "en boucle" in refused.text
    itself = client.post(
        f"{url}/forwarding/busy", data={"csrf_token": token, "target": "external", "number": number}
    )
    assert itself.status_code == 422 and "vers elle-même" in itself.text
    assert 'id="fw-busy-state">Désactivé' in client.get(url).text.replace("\n", "")


def test_settings_and_restrictions_saved_from_the_page(client):
    _platform, group, (number, _other) = _setup(client)
    url = f"/telephony/{group}/lines/{quote(number)}/calls"
    token = csrf_from(client.get(url).text)
    saved = client.post(
        f"{url}/settings",
        data={"csrf_token": token, "do_not_disturb": "true", "caller_id": "hidden"},
        follow_redirects=True,
    )
    assert "The call settings are saved." in saved.text
    assert 'name="do_not_disturb" value="true" checked' in saved.text
    restricted = client.post(
        f"{url}/restrictions",
        data={"csrf_token": token, "block_premium": "true", "number_list_mode": "block",
              "number_list": "0899\n+41900", "allowed_ips": "203.0.113.0/24"},
        follow_redirects=True,
    )  # fmt: skip
    assert "The restrictions are saved." in restricted.text
    assert "+33899\n+41900" in restricted.text and "203.0.113.0/24" in restricted.text
    bad = client.post(
        f"{url}/restrictions",
        data={"csrf_token": token, "number_list_mode": "none", "allowed_ips": "not-an-ip"},
    )
    assert bad.status_code == 422 and "not-an-ip" in bad.text
    assert "Settings: " not in bad.text


def test_star_codes_help_lists_the_table(client):
    _setup(client, language="fr")
    page = client.get("/help/star-codes")
    assert page.status_code == 200
    for code in ("*21*N#", "#21#", "*67*N#", "*61*N#", "*62*N#", "*26#", "*31#N"):
        assert f"<code>{code}</code>" in page.text
    assert "Renvoyer tous les appels vers N" in page.text
