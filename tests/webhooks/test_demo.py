"""The demo registers an endpoint on voipdesk's own test receiver: the delivered customer's
`order.delivered` reaches it signed, and the receiver's answer says the signature checked out."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.integrators.conftest import serving
from voipdesk.core.platform import Platform
from voipdesk.demo import load_demo
from voipdesk.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage


def test_the_demo_endpoint_receives_a_signed_order_delivered(platform: Platform) -> None:
    with serving(platform) as url:
        platform.settings.base_url = url
        load_demo(platform)  # builds the delivered customer, draining the outbox as a worker
        load_demo(platform)  # loading again adds nothing
    with platform.session() as session:
        (endpoint,) = session.scalars(select(WebhookEndpoint)).all()
        assert endpoint.url == f"{url}/api/v1/webhooks/test-receiver/{endpoint.id}"
        rows = session.execute(
            select(WebhookDelivery, WebhookMessage)
            .join(WebhookMessage, WebhookDelivery.message_id == WebhookMessage.id)
            .where(WebhookMessage.event_type == "order.delivered")
        ).all()
        # The delivered customer's order, and the unpaid-invoice customer's (delivered earlier).
        assert len(rows) == 2
        for delivery, message in rows:
            assert delivery.state == "succeeded"
            answer = json.loads(delivery.attempt_rows[-1].response_body)
            assert answer == {
                "verified": True,
                "webhook_id": message.id,
                "type": "order.delivered",
            }
        types = set(session.scalars(select(WebhookMessage.event_type)))
    assert {"order.paid", "procedure.approved", "invoice.issued", "invoice.paid"} <= types


def test_the_test_receiver_refuses_a_forged_signature(platform: Platform) -> None:
    import httpx

    with serving(platform) as url:
        platform.settings.base_url = url
        load_demo(platform)
        with platform.session() as session:
            endpoint = session.scalars(select(WebhookEndpoint)).one()
        stamp = str(int(platform.now().timestamp()))
        forged = httpx.post(
            endpoint.url,
            content=b'{"type":"order.delivered"}',
            headers={
                "webhook-id": "msg_forged",
                "webhook-timestamp": stamp,
                "webhook-signature": "v1,AAAA",
            },
        )
        elsewhere = httpx.post(f"{url}/api/v1/webhooks/test-receiver/unknown", content=b"{}")
    assert forged.status_code == 401
    assert forged.json()["verified"] is False
    assert elsewhere.status_code == 404
