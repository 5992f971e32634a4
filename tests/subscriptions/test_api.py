"""The telephony and services API, on both databases."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from tests.accounts.factories import PASSWORD, api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing.renewal import run_renewal


def _auth(client, account):
    return {"Authorization": f"Bearer {api_token_for(client, account)}", "Accept-Language": "en"}


def _setup(client, offer="sip-decouverte", **kwargs):
    platform = client.app.state.platform
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[(offer, 1)], **kwargs)
    return platform, account, result.billing_group_id, result.sip_credentials[0].number_e164


def test_offer_change_listed_as_pending_and_cancelled(client):
    _platform, account, group, number = _setup(client)
    headers = _auth(client, account)
    groups = client.get("/api/v1/telephony", headers=headers).json()["items"]
    assert [g["id"] for g in groups] == [group] and groups[0]["lines"] == 1
    line_url = f"/api/v1/telephony/{group}/lines/{quote(number)}"
    offers = client.get(f"{line_url}/available-offers", headers=headers).json()
    assert offers == {"current": "sip-decouverte", "available": ["sip-entreprise"]}
    answer = client.put(
        f"{line_url}/offer-change", json={"offer": "sip-entreprise"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["effective_on"] == "2026-04-01"
    pending = client.get(f"/api/v1/telephony/{group}/pending-changes", headers=headers).json()[
        "items"
    ]
    assert [(p["kind"], p["number"]) for p in pending] == [("offer_change", number)]
    assert client.delete(f"{line_url}/offer-change", headers=headers).status_code == 204
    assert client.delete(f"{line_url}/offer-change", headers=headers).status_code == 204  # harmless
    assert (
        client.get(f"/api/v1/telephony/{group}/pending-changes", headers=headers).json()["items"]
        == []
    )


def test_refusals_are_problems_naming_the_rule(client):
    platform, account, group, number = _setup(client, offer="sip-entreprise")
    headers = _auth(client, account)
    line_url = f"/api/v1/telephony/{group}/lines/{quote(number)}"
    answer = client.put(
        f"{line_url}/offer-change", json={"offer": "sip-decouverte"}, headers=headers
    )
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("offer-change-not-allowed")
    french = client.put(
        f"{line_url}/offer-change",
        json={"offer": "sip-decouverte"},
        headers={**headers, "Accept-Language": "fr"},
    )
    assert "ne peut pas évoluer vers une offre VoIP Découverte" in french.json()["detail"]
    bad = client.post(f"{line_url}/termination", json={"reason": "other"}, headers=headers)
    assert bad.status_code == 422
    # Someone else's group answers 404, like a missing one.
    other = make_account(platform)
    assert client.get(f"/api/v1/telephony/{group}", headers=_auth(client, other)).status_code == 404
    assert client.get("/api/v1/telephony/nope", headers=headers).status_code == 404


def test_pool_termination_is_announced_then_confirmed(client):
    platform = client.app.state.platform
    account = make_account(platform)
    result = deliver(platform, account.id, aliases=10, pool=True)
    headers = _auth(client, account)
    group = result.billing_group_id
    numbers = client.get(f"/api/v1/telephony/{group}/numbers", headers=headers).json()["items"]
    url = f"/api/v1/telephony/{group}/numbers/{quote(numbers[0]['number'])}/termination"
    first = client.post(url, json={"reason": "move"}, headers=headers)
    assert first.status_code == 409 and len(first.json()["pool_numbers"]) == 10
    confirmed = client.post(
        url, json={"reason": "move", "confirm_pool_termination": True}, headers=headers
    )
    assert confirmed.status_code == 201


def test_services_invoices_and_closure(client, clock):
    platform, account, _group, _number = _setup(client)
    headers = _auth(client, account)
    services = client.get("/api/v1/me/services", headers=headers).json()["items"]
    service_id = services[0]["id"]
    assert services[0]["renewal_mode"] == "automatic"
    closure = client.post("/api/v1/me/closure", json={"password": PASSWORD}, headers=headers)
    assert closure.status_code == 409
    assert [r["code"] for r in closure.json()["reasons"]] == ["active-service"]
    patched = client.patch(
        f"/api/v1/me/services/{service_id}",
        json={"cancel_at_expiry": True, "reason": "move"},
        headers=headers,
    )
    assert patched.json()["cancel_at_expiry"] is True
    undone = client.patch(
        f"/api/v1/me/services/{service_id}", json={"cancel_at_expiry": False}, headers=headers
    )
    assert undone.json()["cancel_at_expiry"] is False
    run_renewal(platform, date(2026, 4, 1))
    invoices = client.get("/api/v1/me/invoices", headers=headers).json()["items"]
    assert len(invoices) == 1 and invoices[0]["excl_tax"] == {"amount": "1.99", "currency": "EUR"}
    detail = client.get(f"/api/v1/me/invoices/{invoices[0]['id']}", headers=headers).json()
    assert (
        detail["lines"][0]["period_start"] == "2026-04-01" and detail["taxes"][0]["label"] == "VAT"
    )
    pdf = client.get(f"/api/v1/me/invoices/{invoices[0]['id']}/pdf", headers=headers)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # Delete now: the e-mailed link works once.
    assert (
        client.post(f"/api/v1/me/services/{service_id}/delete-now", headers=headers).status_code
        == 202
    )
    from voipdesk.subscriptions.models import DeletionRequest

    with platform.session() as session:
        assert session.query(DeletionRequest).count() == 1
    from voipdesk.accounts.models import ServiceEmail

    with platform.session() as session:
        mail = session.query(ServiceEmail).filter_by(kind="service-delete-confirmation").one()
    token = mail.body_text.split("/services/delete-now/")[1].split()[0]
    confirmed = client.post(f"/api/v1/me/services/delete-now/{token}", headers=headers)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "deleted"
    assert (
        client.post(f"/api/v1/me/services/delete-now/{token}", headers=headers).status_code == 404
    )
    # The invoice is unpaid (no payment method): closure still refused, naming it.
    reasons = client.post(
        "/api/v1/me/closure", json={"password": PASSWORD}, headers=headers
    ).json()["reasons"]
    assert [r["code"] for r in reasons] == ["unpaid-invoice"]
