"""The demo's delivered customer, read through the API with its own login: a billing group with two
SIP lines, a pool of alias numbers, a fax line, a pending change and a paid invoice; the pages show
them; loading the demo twice adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import login
from voipdesk.accounts.models import Account, ServiceEmail
from voipdesk.app import create_app
from voipdesk.catalogue.models import NUMBER_ASSIGNED, InventoryNumber
from voipdesk.core.outbox import OutboxMessage
from voipdesk.core.platform import Platform
from voipdesk.demo import DELIVERED_CUSTOMER, DEMO_PASSWORD, load_demo
from voipdesk.orders.models import PurchaseOrder
from voipdesk.subscriptions.models import PendingChange, Service

EMAIL = DELIVERED_CUSTOMER["email"]


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    load_demo(platform)
    with TestClient(create_app(platform), base_url="https://testserver") as test_client:
        yield test_client


def _headers(client: TestClient) -> dict[str, str]:
    answer = client.post(
        "/api/v1/auth/tokens", json={"login": EMAIL, "password": DEMO_PASSWORD, "name": "demo"}
    )
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _items(client: TestClient, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = client.get("/api/v1" + path, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["items"] if isinstance(body, dict) else body


def test_the_delivered_customer_finds_every_list_filled(
    client: TestClient, platform: Platform
) -> None:
    headers = _headers(client)
    [group] = _items(client, "/telephony", headers)
    assert (group["lines"], group["numbers"], group["faxes"], group["pending_changes"]) == (
        2,
        10,
        1,
        1,
    )
    base = f"/telephony/{group['id']}"

    lines = {line["offer"]: line for line in _items(client, f"{base}/lines", headers)}
    assert set(lines) == {"sip-entreprise", "sip-decouverte"}
    assert lines["sip-entreprise"]["simultaneous_calls"] == 4
    assert all(line["state"] == "active" for line in lines.values())

    numbers = _items(client, f"{base}/numbers", headers)
    assert len(numbers) == 10
    assert len({number["pool_id"] for number in numbers}) == 1 and numbers[0]["pool_id"]
    [fax] = _items(client, f"{base}/faxes", headers)
    assert fax["kind"] == "fax_line"
    taken = [line["number"] for line in lines.values()] + [n["number"] for n in numbers]
    taken.append(fax["number"])
    assert all(number.startswith("+334") for number in taken)  # Lyon's area, as ordered

    # One pending change: 4 -> 2 simultaneous calls on the Entreprise line, next month's 1st.
    [change] = _items(client, f"{base}/pending-changes", headers)
    assert change["kind"] == "simultaneous_calls_decrease"
    assert change["number"] == lines["sip-entreprise"]["number"]
    assert change["new_simultaneous_calls"] == 2
    next_month = (platform.today().replace(day=28) + timedelta(days=4)).replace(day=1)
    assert change["effective_on"] == next_month.isoformat()

    assert len(_items(client, "/me/services", headers)) == 13
    [order] = _items(client, "/orders", headers)
    assert order["state"] == "delivered"

    [invoice] = _items(client, "/me/invoices", headers)
    assert invoice["status"] == "paid" and invoice["paid_at"]
    assert invoice["order_id"] == order["id"]
    pdf = client.get(f"/api/v1/me/invoices/{invoice['id']}/pdf", headers=headers)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    # The service e-mails: the procedure (with its PDF), the approval, the delivery with the
    # SIP usernames of both lines.
    emails = {email["kind"]: email for email in _items(client, "/me/service-emails", headers)}
    assert {"validation-procedure", "validation-approved", "order-delivered"} <= set(emails)
    delivered = client.get(
        f"/api/v1/me/service-emails/{emails['order-delivered']['id']}", headers=headers
    ).json()
    for line in lines.values():
        assert line["number"].lstrip("+") in delivered["body_text"]

    # The numbers are taken in the inventory; the lines have their SIP credentials.
    with platform.session() as session:
        statuses = set(
            session.scalars(
                select(InventoryNumber.status).where(InventoryNumber.number_e164.in_(taken))
            )
        )
        assert statuses == {NUMBER_ASSIGNED}
        usernames = set(
            session.scalars(
                select(Service.sip_username).where(Service.billing_group_id == group["id"])
            )
        ) - {None}
        assert usernames == {line["number"].lstrip("+") for line in lines.values()}

    # The VoIP procedure is approved: the account is validated.
    procedure = client.get("/api/v1/telephony/procedure", headers=headers)
    assert procedure.status_code == 200, procedure.text
    assert procedure.json()["validated"] is True


def test_the_pages_show_the_delivered_services(client: TestClient) -> None:
    assert login(client, EMAIL, DEMO_PASSWORD).status_code == 303
    telephony = client.get("/telephony")
    assert telephony.status_code == 200
    group_path = next(
        part.split('"', 1)[0]
        for part in telephony.text.split('href="')[1:]
        if part.startswith("/telephony/")
    )
    group_page = client.get(group_path)
    assert group_page.status_code == 200
    invoices = client.get("/invoices")
    assert invoices.status_code == 200 and "/pdf" in invoices.text


def _counts(platform: Platform) -> dict[str, int]:
    with platform.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Account, PurchaseOrder, Service, PendingChange, ServiceEmail)
        }


def test_loading_the_demo_twice_adds_nothing(client: TestClient, platform: Platform) -> None:
    before = _counts(platform)
    logins = load_demo(platform)
    assert _counts(platform) == before
    assert any(login.startswith(EMAIL) for _role, login, _password in logins)
    with platform.session() as session:  # the loader drained the outbox, nothing failed
        left = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.delivered_at.is_(None),
                (OutboxMessage.available_at <= platform.now())
                | OutboxMessage.failed_at.isnot(None),
            )
        )
    assert left == 0


def test_the_delivered_customer_sets_up_a_line(client: TestClient, platform: Platform) -> None:
    """The demo's "done when": a new SIP password, a forward from the API/page and another by
    star code (the same use case), a voicemail message to listen to."""
    from urllib.parse import quote

    from voipdesk.telephony.actions.star_codes import apply_star_code
    from voipdesk.telephony.queries import routing_record_for

    headers = {**_headers(client), "Accept-Language": "en"}
    [group] = _items(client, "/telephony", headers)
    lines = _items(client, f"/telephony/{group['id']}/lines", headers)
    entreprise = next(line for line in lines if line["offer"] == "sip-entreprise")["number"]
    decouverte = next(line for line in lines if line["offer"] == "sip-decouverte")["number"]
    url = f"/api/v1/telephony/{group['id']}/lines/{quote(entreprise)}"
    assert client.post(f"{url}/sip-password", headers=headers).status_code == 200
    forward = client.put(
        f"{url}/forwarding/no_answer",
        json={"target": "line", "number": decouverte, "delay": 20},
        headers=headers,
    )
    assert forward.status_code == 200, forward.text
    with platform.transaction() as session:
        apply_star_code(session, platform, decouverte.lstrip("+"), "*21*0612345678#")
    with platform.session() as session:
        record = routing_record_for(session, decouverte.lstrip("+")).record
    assert record["forwards"]["unconditional"]["number"] == "+33612345678"
    messages = _items(
        client, f"/telephony/{group['id']}/lines/{quote(entreprise)}/voicemail/messages", headers
    )
    assert len(messages) == 1 and messages[0]["caller"] == "+33612345678"
    assert client.get(messages[0]["audio_url"], headers=headers).status_code == 200
