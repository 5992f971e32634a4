"""The demo's unpaid customer: its renewal invoice went unpaid (declined card), it received the
failed-payment e-mail, the three reminders and the suspension notice, its line is suspended;
paying the invoice by card through the API reactivates the line at once. The Plug & Phone lent
with her line went back: received by staff, its deposit refunded through the provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from voipdesk.app import create_app
from voipdesk.core.platform import Platform
from voipdesk.demo import DEMO_PASSWORD, UNPAID_CUSTOMER, load_demo
from voipdesk.payments.provider import TEST_CARD_SUCCEEDS
from voipdesk.subscriptions.models import Service


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    load_demo(platform)
    with TestClient(create_app(platform), base_url="https://testserver") as test_client:
        yield test_client


def test_the_unpaid_customer_pays_and_its_line_is_reactivated(
    client: TestClient, platform: Platform
) -> None:
    token = client.post(
        "/api/v1/auth/tokens",
        json={"login": UNPAID_CUSTOMER["email"], "password": DEMO_PASSWORD, "name": "demo"},
    )
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    invoices = client.get("/api/v1/me/invoices", headers=headers).json()["items"]
    unpaid = [i for i in invoices if i["status"] == "unpaid"]
    assert len(unpaid) == 1 and len(invoices) == 2  # the order's (paid) and the renewal's
    emails = client.get("/api/v1/me/service-emails?limit=100", headers=headers).json()["items"]
    kinds = [e["kind"] for e in emails]
    assert kinds.count("invoice-reminder") == 3, kinds
    for kind in ("invoice-collection-failed", "invoice-suspension-notice", "invoice-suspension"):
        assert kind in kinds, kinds
    account_id = client.get("/api/v1/me", headers=headers).json()["id"]
    group = client.get("/api/v1/telephony", headers=headers).json()["items"][0]["id"]
    [phone] = client.get(f"/api/v1/telephony/{group}/phones", headers=headers).json()["items"]
    assert phone["state"] == "refunded" and phone["received_on"] < phone["refund_due_on"]
    assert phone["refunded_at"] >= phone["refund_due_on"]
    assert "hardware-return" in kinds  # told where to send it and by when
    with platform.session() as session:
        line = session.scalar(
            select(Service).where(Service.account_id == account_id, Service.kind == "sip_line")
        )
        assert line is not None and line.state == "suspended"
    card = {"number": TEST_CARD_SUCCEEDS, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    paid = client.post(
        f"/api/v1/me/invoices/{unpaid[0]['id']}/payments",
        json={"method": "card", "card": card},
        headers={**headers, "Idempotency-Key": "demo-pay-1"},
    )
    assert paid.status_code in (200, 201), paid.text
    with platform.session() as session:
        line = session.get(Service, line.id)
        assert line is not None and line.state == "active"
    # Loading the demo again adds nothing to this customer's story.
    load_demo(platform)
    again = client.get("/api/v1/me/invoices", headers=headers).json()["items"]
    assert len(again) == 2
