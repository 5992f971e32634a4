"""Pages of the customer space for telephony, services and invoices (TestClient, both databases)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import csrf_from, login
from voipdesk.billing.renewal import run_renewal


def test_group_page_offer_change_cancel_and_invoices(client):
    platform = client.app.state.platform
    account = make_account(platform, language="fr")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)], aliases=1)
    group, number = result.billing_group_id, result.sip_credentials[0].number_e164
    assert login(client, account.email, PASSWORD).status_code == 303
    line_page = client.get(f"/telephony/{group}/lines/{quote(number)}")
    assert line_page.status_code == 200
    assert (
        "ne peut pas évoluer vers une offre VoIP Découverte" in line_page.text
    )  # nothing available
    refused = client.post(
        f"/telephony/{group}/lines/{quote(number)}/offer-change",
        data={"csrf_token": csrf_from(line_page.text), "offer": "sip-decouverte"},
    )
    assert refused.status_code == 409 and "Entreprise" in refused.text
    decrease = client.post(
        f"/telephony/{group}/lines/{quote(number)}/simultaneous-calls",
        data={"csrf_token": csrf_from(line_page.text), "calls": "1"},
        follow_redirects=False,
    )
    assert decrease.status_code == 303
    dashboard = client.get(f"/telephony/{group}")
    assert "Diminution des appels simultanés" in dashboard.text
    # A form without its CSRF token changes nothing.
    assert client.post(f"/telephony/{group}/terminate", data={"reason": "move"}).status_code == 403
    run_renewal(platform, date(2026, 4, 1))
    invoices = client.get("/invoices")
    assert "2026-000001" in invoices.text
    assert "Mes factures" in invoices.text
    services = client.get("/services")
    assert services.status_code == 200 and "Passer en renouvellement manuel" in services.text
