"""Pages of the customer space for telephony, services and invoices (TestClient, both databases)."""

from __future__ import annotations

import html
import re
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


def test_group_page_changes_the_billing_contact_and_cancels_the_waiting_change(client):
    platform = client.app.state.platform
    owner = make_account(platform, language="fr")
    new_contact = make_account(platform, country="BE", language="fr")
    group = deliver(platform, owner.id, lines=[("sip-decouverte", 1)]).billing_group_id
    assert login(client, owner.email, PASSWORD).status_code == 303
    page = client.get(f"/telephony/{group}")
    assert "Contact facturation" in page.text and owner.handle in page.text
    unknown = client.post(
        f"/telephony/{group}/billing-contact",
        data={"csrf_token": csrf_from(page.text), "billing_contact": "nobody@example.org"},
    )
    assert unknown.status_code == 422
    shown = html.unescape(unknown.text)
    assert "Aucun compte client n'a l'identifiant ou l'adresse e-mail nobody@example.org" in shown
    assert "Indiquez l'identifiant ou l'adresse e-mail d'un compte client ouvert." in shown
    asked = client.post(
        f"/telephony/{group}/billing-contact",
        data={"csrf_token": csrf_from(page.text), "billing_contact": new_contact.handle},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert (
        f"Changement vers {new_contact.handle} en attente" in client.get(f"/telephony/{group}").text
    )
    # The named contact accepts on its telephony page; the change then waits for its validation.
    client.cookies.clear()
    assert login(client, new_contact.email, PASSWORD).status_code == 303
    requests_page = client.get("/telephony")
    assert "vous demande de devenir le contact facturation" in html.unescape(requests_page.text)
    [change_id] = re.findall(
        r"/telephony/billing-contact-requests/(\w+)/accept", requests_page.text
    )
    accepted = client.post(
        f"/telephony/billing-contact-requests/{change_id}/accept",
        data={"csrf_token": csrf_from(requests_page.text)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert "billing-contact-requests" not in client.get("/telephony").text
    client.cookies.clear()
    assert login(client, owner.email, PASSWORD).status_code == 303
    waiting = client.get(f"/telephony/{group}")
    assert "en attente de la validation VoIP de ce compte" in html.unescape(waiting.text)
    cancelled = client.post(
        f"/telephony/{group}/billing-contact/cancel",
        data={"csrf_token": csrf_from(waiting.text)},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    after = client.get(f"/telephony/{group}")
    assert "en attente de la validation VoIP" not in after.text
    assert "Changer le contact facturation" in after.text


def test_binding_service_actions_ask_first_naming_the_consequence(client):
    from voipdesk.subscriptions.models import Service

    platform = client.app.state.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 1)])
    group, number = result.billing_group_id, result.sip_credentials[0].number_e164
    assert login(client, account.email, PASSWORD).status_code == 303
    services = client.get("/services")
    with platform.session() as session:
        service = session.query(Service).filter_by(account_id=account.id).one()
    token = csrf_from(services.text)
    for operation, data, expected in (
        ("renewal", {"mode": "manual"}, "will no longer renew by itself"),
        ("cancel", {"reason": "move"}, "will be deleted for good at its expiry date"),
        ("delete-now", {}, "deletes"),
    ):
        asked = client.post(
            f"/services/{service.id}/{operation}", data={"csrf_token": token, **data}
        )
        assert asked.status_code == 200 and expected in html.unescape(asked.text), operation
        assert 'name="confirmed" value="yes"' in asked.text
    with platform.session() as session:
        unchanged = session.get(Service, service.id)
        assert unchanged.renewal_mode == "automatic" and not unchanged.cancel_at_expiry
    done = client.post(
        f"/services/{service.id}/renewal",
        data={"csrf_token": token, "mode": "manual", "confirmed": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    line = client.get(f"/telephony/{group}/lines/{quote(number)}")
    asked = client.post(
        f"/telephony/{group}/lines/{quote(number)}/conversion",
        data={"csrf_token": csrf_from(line.text)},
    )
    assert "becomes an alias number" in html.unescape(asked.text)
    assert client.get(f"/telephony/{group}").text.count('data-change="conversion"') == 0
