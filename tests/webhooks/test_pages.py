"""The back-office pages of the webhooks: staff register an endpoint with a form, see its
deliveries and their answers, and send one again; customers cannot open them; French pages."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.accounts.factories import PASSWORD
from tests.orders.helpers import create, pay
from tests.web.conftest import csrf_from, login
from tests.webhooks.conftest import Receiver
from voipdesk.accounts.models import Account
from voipdesk.core.clock import MovableClock
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.orders.actions import Cart, CartLine

ONE_LINE = Cart(lines=[CartLine(offer="sip-decouverte", quantity=1, area="+331")])


def test_staff_register_an_endpoint_follow_its_deliveries_and_send_one_again(
    seeded: Platform,
    client: TestClient,
    clock: MovableClock,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    assert login(client, staff.email, PASSWORD).status_code == 303
    page = client.get("/backoffice/webhooks")
    assert page.status_code == 200
    refused = client.post(
        "/backoffice/webhooks",
        data={"csrf_token": csrf_from(page.text), "url": "mailto:someone", "description": ""},
    )
    assert refused.status_code == 422
    assert "Choose at least one event." in refused.text or "Choisissez" in refused.text
    registered = client.post(
        "/backoffice/webhooks",
        data={
            "csrf_token": csrf_from(page.text),
            "url": receiver.url,
            "description": "CRM",
            "event_types": ["order.delivered", "order.paid"],
        },
        follow_redirects=False,
    )
    assert registered.status_code == 303
    endpoint_page = client.get(registered.headers["location"])
    secret = re.search(r'<code id="secret">([^<]+)</code>', endpoint_page.text)
    assert secret is not None and secret.group(1).startswith("whsec_")
    receiver.secret = secret.group(1)
    receiver.answers = [500]

    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    clock.advance(timedelta(seconds=5))
    drain(seeded)
    assert all(receiver.signed(request) for request in receiver.requests)
    endpoint_page = client.get(registered.headers["location"])
    assert "order.delivered" in endpoint_page.text and "order.paid" in endpoint_page.text
    links = re.findall(r'href="(/backoffice/webhooks/deliveries/[0-9a-f]+)"', endpoint_page.text)
    assert len(links) == 2
    details = [client.get(link) for link in links]
    failed_then_ok = next(d for d in details if "HTTP 500" in d.text)
    assert "receiver busy, try later" in failed_then_ok.text
    assert "HTTP 204" in failed_then_ok.text

    sent = len(receiver.requests)
    again = client.post(
        links[details.index(failed_then_ok)] + "/send-again",
        data={"csrf_token": csrf_from(failed_then_ok.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303
    drain(seeded)
    assert len(receiver.requests) == sent + 1
    assert "Renvoyé par l&#39;équipe" in client.get(again.headers["location"]).text  # French staff


def test_customers_cannot_open_the_webhook_pages(client: TestClient, customer: Account) -> None:
    assert login(client, customer.email, PASSWORD).status_code == 303
    assert client.get("/backoffice/webhooks").status_code == 403
