"""Webhooks as an operator's system lives them: staff register an endpoint through the API, a
customer's order is paid and delivered, and the receiver (a real HTTP server) gets signed
events; it fails twice, then accepts; the same `webhook-id` on every attempt; staff read each
attempt and answer, and send a delivery again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.accounts.factories import api_token_for
from tests.orders.helpers import create, pay
from tests.webhooks.conftest import Receiver
from voipdesk.accounts.models import Account
from voipdesk.core.clock import MovableClock
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.orders.actions import Cart, CartLine
from voipdesk.webhooks import rules

ONE_LINE = Cart(lines=[CartLine(offer="sip-decouverte", quantity=1, area="+331")])
BASE = "/api/v1/backoffice/webhooks"


def _auth(client: TestClient, account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token_for(client, account)}"}


def _register(
    client: TestClient, staff: Account, receiver: Receiver, event_types: list[str]
) -> dict[str, Any]:
    answer = client.post(
        f"{BASE}/endpoints",
        json={"url": receiver.url, "event_types": event_types, "description": "CRM"},
        headers=_auth(client, staff),
    )
    assert answer.status_code == 201, answer.text
    endpoint: dict[str, Any] = answer.json()
    receiver.secret = endpoint["secret"]
    return endpoint


def test_an_order_delivered_reaches_the_endpoint_signed_after_two_failures(
    seeded: Platform,
    client: TestClient,
    clock: MovableClock,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    endpoint = _register(client, staff, receiver, ["order.delivered"])
    assert endpoint["secret"].startswith("whsec_")
    receiver.answers = [500, 503]  # fails twice, then accepts (204)

    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)  # delivered; the event is forwarded; first attempt: 500
    assert len(receiver.requests) == 1
    clock.advance(timedelta(seconds=4))
    drain(seeded)
    assert len(receiver.requests) == 1  # the second attempt waits 5 s
    clock.advance(timedelta(seconds=1))
    drain(seeded)  # second attempt: 503
    clock.advance(timedelta(minutes=5))
    drain(seeded)  # third attempt: accepted
    assert len(receiver.requests) == 3

    first = receiver.requests[0]
    assert {request.headers["webhook-id"] for request in receiver.requests} == {
        first.headers["webhook-id"]
    }
    assert all(receiver.signed(request) for request in receiver.requests)
    stamps = [int(request.headers["webhook-timestamp"]) for request in receiver.requests]
    assert stamps[1] - stamps[0] == 5 and stamps[2] - stamps[1] == 300  # each attempt re-signed
    body = first.json
    assert body["type"] == "order.delivered"
    assert body["data"]["order_id"] == order.id
    assert body["data"]["number"] == order.number
    assert body["data"]["billing_group_id"]
    assert receiver.handled_ids == [first.headers["webhook-id"]]

    # staff see the delivery, each attempt and the receiver's answers
    deliveries = client.get(f"{BASE}/deliveries", headers=_auth(client, staff)).json()
    (delivery,) = deliveries["items"]
    assert delivery["state"] == "succeeded" and delivery["attempts"] == 3
    assert delivery["webhook_id"] == first.headers["webhook-id"]
    assert delivery["last_status_code"] == 204
    detail = client.get(f"{BASE}/deliveries/{delivery['id']}", headers=_auth(client, staff))
    attempts = detail.json()["attempt_list"]
    assert [a["status_code"] for a in attempts] == [500, 503, 204]
    assert attempts[0]["response_body"] == "receiver busy, try later"
    assert [a["succeeded"] for a in attempts] == [False, False, True]
    assert detail.json()["body"] == body

    # send again: the same id once more; the receiver acknowledges it and handles nothing new
    again = client.post(
        f"{BASE}/deliveries/{delivery['id']}/send-again", headers=_auth(client, staff)
    )
    assert again.status_code == 202
    assert again.json()["state"] == "pending"
    drain(seeded)
    assert len(receiver.requests) == 4
    assert receiver.requests[3].headers["webhook-id"] == first.headers["webhook-id"]
    assert receiver.handled_ids == [first.headers["webhook-id"]]
    detail = client.get(f"{BASE}/deliveries/{delivery['id']}", headers=_auth(client, staff))
    last = detail.json()["attempt_list"][-1]
    assert last["trigger"] == "manual" and last["actor"] == f"staff:{staff.id}"
    assert detail.json()["state"] == "succeeded"


def test_each_endpoint_receives_only_the_types_it_chose(
    seeded: Platform,
    client: TestClient,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    _register(client, staff, receiver, ["order.paid", "invoice.issued", "invoice.paid"])
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    types = sorted(request.json["type"] for request in receiver.requests)
    assert types == ["invoice.issued", "invoice.paid", "order.paid"]
    assert all(receiver.signed(request) for request in receiver.requests)
    paid = next(r.json for r in receiver.requests if r.json["type"] == "order.paid")
    assert paid["data"]["incl_tax"] == {"amount": f"{order.total_incl_tax:.2f}", "currency": "EUR"}
    issued = next(r.json for r in receiver.requests if r.json["type"] == "invoice.issued")
    assert issued["data"]["order_id"] == order.id
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 3


def test_a_receiver_down_for_good_is_given_up_after_the_schedule_then_sent_again(
    seeded: Platform,
    client: TestClient,
    clock: MovableClock,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    _register(client, staff, receiver, ["order.delivered"])
    receiver.default = 500
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    for delay in rules.RETRY_DELAYS:
        clock.advance(delay)
        drain(seeded)
    assert len(receiver.requests) == 1 + len(rules.RETRY_DELAYS)
    clock.advance(timedelta(days=3))
    drain(seeded)
    assert len(receiver.requests) == 8  # given up
    (delivery,) = client.get(
        f"{BASE}/deliveries?state=failed", headers=_auth(client, staff)
    ).json()["items"]
    assert delivery["attempts"] == 8 and delivery["next_attempt_at"] is None

    receiver.default = 200  # the receiver is back: staff send it again
    answer = client.post(
        f"{BASE}/deliveries/{delivery['id']}/send-again", headers=_auth(client, staff)
    )
    assert answer.status_code == 202
    drain(seeded)
    assert len(receiver.requests) == 9
    assert (
        client.get(f"{BASE}/deliveries/{delivery['id']}", headers=_auth(client, staff)).json()[
            "state"
        ]
        == "succeeded"
    )


def test_sending_again_a_pending_delivery_replaces_its_scheduled_attempt(
    seeded: Platform,
    client: TestClient,
    clock: MovableClock,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    _register(client, staff, receiver, ["order.delivered"])
    receiver.answers = [500]
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    (delivery,) = client.get(f"{BASE}/deliveries", headers=_auth(client, staff)).json()["items"]
    assert delivery["state"] == "pending" and delivery["next_attempt_at"] is not None
    client.post(f"{BASE}/deliveries/{delivery['id']}/send-again", headers=_auth(client, staff))
    drain(seeded)
    assert len(receiver.requests) == 2
    clock.advance(timedelta(hours=1))
    drain(seeded)  # the attempt that was scheduled is stale: nothing more is sent
    assert len(receiver.requests) == 2


def test_a_disabled_endpoint_receives_nothing_and_cannot_be_sent_to(
    seeded: Platform,
    client: TestClient,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    endpoint = _register(client, staff, receiver, ["order.delivered"])
    answer = client.patch(
        f"{BASE}/endpoints/{endpoint['id']}", json={"enabled": False}, headers=_auth(client, staff)
    )
    assert answer.status_code == 200 and answer.json()["enabled"] is False
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    assert receiver.requests == []
    assert client.get(f"{BASE}/deliveries", headers=_auth(client, staff)).json()["items"] == []


def test_only_staff_manage_webhooks(client: TestClient, customer: Account) -> None:
    headers = _auth(client, customer)
    assert client.get(f"{BASE}/endpoints", headers=headers).status_code == 403
    answer = client.post(
        f"{BASE}/endpoints",
        json={"url": "https://crm.example.com/hook", "event_types": ["order.paid"]},
        headers=headers,
    )
    assert answer.status_code == 403
    assert client.get(f"{BASE}/endpoints").status_code == 401


def test_a_bad_address_or_event_type_is_refused_field_by_field(
    client: TestClient, staff: Account
) -> None:
    answer = client.post(
        f"{BASE}/endpoints",
        json={"url": "ftp://user:pw@crm.example.com/", "event_types": ["order.shipped"]},
        headers=_auth(client, staff) | {"Accept-Language": "en"},
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "invalid-webhook-endpoint"
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"url", "event_types"}
    assert client.get(f"{BASE}/endpoints", headers=_auth(client, staff)).json()["items"] == []


def test_staff_rotate_the_secret_and_the_next_attempts_use_it(
    seeded: Platform,
    client: TestClient,
    clock: MovableClock,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    endpoint = _register(client, staff, receiver, ["order.delivered"])
    receiver.answers = [500]
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    rotated = client.post(
        f"{BASE}/endpoints/{endpoint['id']}/secret", headers=_auth(client, staff)
    ).json()
    assert rotated["secret"] != endpoint["secret"]
    receiver.secret = rotated["secret"]
    clock.advance(timedelta(seconds=5))
    drain(seeded)
    assert receiver.signed(receiver.requests[1])
    assert not receiver.signed(receiver.requests[0])  # signed with the old secret


def test_a_delivery_waiting_when_its_endpoint_is_disabled_is_given_up_then_sent_again(
    seeded: Platform,
    client: TestClient,
    clock: MovableClock,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    endpoint = _register(client, staff, receiver, ["order.delivered"])
    receiver.answers = [500]
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    headers = _auth(client, staff)
    client.patch(f"{BASE}/endpoints/{endpoint['id']}", json={"enabled": False}, headers=headers)
    clock.advance(timedelta(seconds=5))
    drain(seeded)
    assert len(receiver.requests) == 1
    (delivery,) = client.get(f"{BASE}/deliveries", headers=headers).json()["items"]
    assert delivery["state"] == "failed" and delivery["next_attempt_at"] is None
    refused = client.post(f"{BASE}/deliveries/{delivery['id']}/send-again", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["type"] == "webhook-endpoint-disabled"
    client.patch(f"{BASE}/endpoints/{endpoint['id']}", json={"enabled": True}, headers=headers)
    assert (
        client.post(f"{BASE}/deliveries/{delivery['id']}/send-again", headers=headers).status_code
        == 202
    )
    drain(seeded)
    assert len(receiver.requests) == 2


def test_the_http_call_is_made_with_no_database_transaction_open(
    seeded: Platform,
    client: TestClient,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    """While the receiver holds the request, another connection writes the delivery's row at
    once (no lock is held by the sender) and sees the attempt's outbox message claimed, not yet
    delivered; the answer is recorded afterwards in its own transaction."""
    from sqlalchemy import select, text, update

    from voipdesk.core.outbox import OutboxMessage
    from voipdesk.webhooks.models import WebhookDelivery

    _register(client, staff, receiver, ["order.delivered"])
    seen: list[tuple[bool, bool]] = []

    def during(_received: Any) -> None:
        with seeded.transaction() as session:
            if seeded.engine.dialect.name == "sqlite":
                session.execute(text("PRAGMA busy_timeout = 500"))  # fail fast if locked
            else:
                session.execute(text("SET LOCAL lock_timeout = '500ms'"))
            (delivery,) = session.scalars(select(WebhookDelivery).with_for_update()).all()
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id)
                .values(attempts=WebhookDelivery.attempts)
            )
            (message,) = session.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == "webhooks.send")
            ).all()
            seen.append((message.delivered_at is None, message.available_at > seeded.now()))

    receiver.during = during
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    assert receiver.errors == []
    assert seen == [(True, True)]  # claimed for its lease, not delivered, while in flight
    with seeded.session() as session:
        (delivery,) = session.scalars(select(WebhookDelivery)).all()
        assert (delivery.state, delivery.attempts) == (rules.SUCCEEDED, 1)
        (message,) = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "webhooks.send")
        ).all()
        assert message.delivered_at is not None


def test_a_crash_after_the_post_sends_again_under_the_same_id(
    seeded: Platform,
    client: TestClient,
    clock: MovableClock,
    staff: Account,
    customer: Account,
    receiver: Receiver,
) -> None:
    """At least once: a worker that dies after the POST, before recording the answer, leaves
    the message claimed; once the lease is over it is sent again with the same `webhook-id`,
    which the receiver deduplicates, and recorded once as delivered."""
    import pytest

    from voipdesk.core import outbox
    from voipdesk.webhooks import actions

    _register(client, staff, receiver, ["order.delivered"])
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    real = actions.record_attempt

    def crash(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # the process dies: nothing after the POST is written

    actions.record_attempt = crash  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            drain(seeded)
    finally:
        actions.record_attempt = real
    assert len(receiver.requests) == 1
    drain(seeded)
    assert len(receiver.requests) == 1  # claimed: nobody sends it during the lease
    clock.advance(outbox.EXTERNAL_LEASE + timedelta(seconds=1))
    drain(seeded)
    assert len(receiver.requests) == 2
    first, second = (r.headers["webhook-id"] for r in receiver.requests)
    assert first == second and receiver.handled_ids == [first]


def test_endpoints_at_internal_addresses_are_refused_at_registration(
    seeded: Platform, client: TestClient, staff: Account, monkeypatch: Any
) -> None:
    from voipdesk.webhooks import actions

    seeded.settings.webhooks_allow_private_addresses = False
    names = {"hooks.example.com": ["93.184.216.34"], "internal.example.com": ["10.1.2.3"]}
    monkeypatch.setattr(actions, "resolve", lambda host: names.get(host, _system(host)))
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://192.168.0.10/hook",
        "https://internal.example.com/hook",  # a public name that resolves inside
        "https://[::ffff:10.0.0.1]/hook",
    ):
        answer = client.post(
            f"{BASE}/endpoints",
            json={"url": url, "event_types": ["order.paid"]},
            headers={**_auth(client, staff), "Accept-Language": "fr"},
        )
        assert answer.status_code == 422, (url, answer.text)
        assert "réseau privé" in str(answer.json()), url
    accepted = client.post(
        f"{BASE}/endpoints",
        json={"url": "https://hooks.example.com/voipdesk", "event_types": ["order.paid"]},
        headers=_auth(client, staff),
    )
    assert accepted.status_code == 201, accepted.text
    # Editing the address is checked the same way.
    moved = client.patch(
        f"{BASE}/endpoints/{accepted.json()['id']}",
        json={"url": "http://127.0.0.1/"},
        headers=_auth(client, staff),
    )
    assert moved.status_code == 422, moved.text


def _system(host: str) -> list[str]:
    import socket

    try:
        return sorted({str(i[4][0]) for i in socket.getaddrinfo(host, None)})
    except OSError:
        return []


def test_a_name_that_resolves_inside_at_delivery_is_not_called(
    seeded: Platform,
    client: TestClient,
    staff: Account,
    customer: Account,
    receiver: Receiver,
    monkeypatch: Any,
) -> None:
    """DNS may change after the registration (rebinding): each attempt resolves the name again,
    checks every address and refuses an internal one, and the attempt is recorded as refused
    (nothing reached the receiver on this machine)."""
    from sqlalchemy import select

    from voipdesk.webhooks import actions
    from voipdesk.webhooks.models import WebhookAttempt

    seeded.settings.webhooks_allow_private_addresses = False
    answers = {"hooks.example.com": ["93.184.216.34"]}
    monkeypatch.setattr(actions, "resolve", lambda host: answers.get(host, []))
    port = receiver.url.split(":")[2].split("/")[0]
    registered = client.post(
        f"{BASE}/endpoints",
        json={"url": f"http://hooks.example.com:{port}/hook", "event_types": ["order.delivered"]},
        headers=_auth(client, staff),
    )
    assert registered.status_code == 201, registered.text
    answers["hooks.example.com"] = ["93.184.216.34", "127.0.0.1"]  # the name now points inside
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    assert receiver.requests == []
    with seeded.session() as session:
        (attempt,) = session.scalars(select(WebhookAttempt)).all()
    assert attempt.status_code is None and not attempt.succeeded
    assert attempt.error is not None and attempt.error.startswith("Refused")
    assert "127.0.0.1" in attempt.error


def test_the_request_goes_to_the_address_that_was_checked() -> None:
    """The checked address is the one connected to (the name is not resolved a second time),
    with the original Host header and the TLS name the certificate must match."""
    from voipdesk.webhooks.actions import _pinned

    url, headers, extensions = _pinned("https://hooks.example.com:8443/a/b?x=1", "93.184.216.34")
    assert url == "https://93.184.216.34:8443/a/b?x=1"
    assert headers == {"host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
    url, headers, extensions = _pinned("http://hooks.example.com/h", "2606:4700::1111")
    assert (url, headers, extensions) == (
        "http://[2606:4700::1111]/h",
        {"host": "hooks.example.com"},
        {},
    )
