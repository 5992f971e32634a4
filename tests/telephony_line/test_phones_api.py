"""Plug & Phone through the API, on both databases: attach a lent phone by its MAC to any line of
the group, its provisioning file fetched by that MAC (and parsed) and refused to any other, bad
MACs refused, a return told by e-mail, received by staff and its deposit refunded through the
payment provider."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from tests.accounts.factories import make_account
from tests.orders.conftest import mark_validated
from tests.orders.helpers import create, pay
from tests.telephony_line.helpers import auth, line_url, setup, staff_headers
from voipdesk.accounts.models import ServiceEmail
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.outbox import drain
from voipdesk.orders.actions import Cart, CartLine
from voipdesk.payments.models import Payment, SandboxCharge
from voipdesk.subscriptions import actions as subscription_actions
from voipdesk.subscriptions.models import PhoneLoan, Service, ServiceEvent
from voipdesk.subscriptions.rules import digest_ha1
from voipdesk.telephony.phones.models import Phone
from voipdesk.telephony.phones.rules import parse_config

MAC = "00:15:65:12:34:56"
UA = "Yealink SIP-T46U 66.86.0.15 00:15:65:12:34:56"


def test_attach_a_lent_phone_to_another_line_and_fetch_its_file(client):
    platform, customer, group, (first, second) = setup(client, phones=True)
    headers = auth(client, customer)
    # Two phones were lent for the two lines, their MACs not known yet.
    shown = client.get(line_url(group, first, "/phone"), headers=headers).json()
    assert shown["phone"]["model"] == "Yealink SIP-T46U" and shown["phone"]["mac"] is None
    assert client.delete(line_url(group, second, "/phone"), headers=headers).status_code == 200
    freed = client.get(line_url(group, first, "/phone"), headers=headers).json()
    assert len(freed["available"]) == 1
    # The MAC typed on line 1 is its own phone's.
    own = client.put(
        line_url(group, first, "/phone"), json={"mac": "00:15:65:00:00:01"}, headers=headers
    )
    assert own.status_code == 200 and own.json()["phone"]["mac"] == "00:15:65:00:00:01"
    busy = client.put(line_url(group, first, "/phone"), json={"mac": MAC}, headers=headers)
    assert busy.status_code == 409 and busy.json()["type"].endswith("line-has-a-phone")
    assert client.delete(line_url(group, first, "/phone"), headers=headers).json()["phone"] is None
    attached = client.put(line_url(group, second, "/phone"), json={"mac": MAC}, headers=headers)
    assert attached.status_code == 200, attached.text
    phone = attached.json()["phone"]
    assert phone["mac"] == MAC and phone["line"] == second
    assert phone["provisioning_url"] == "https://testserver/provisioning/001565123456.cfg"

    answer = client.get("/provisioning/001565123456.cfg", headers={"User-Agent": UA})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    values = parse_config(answer.text)
    assert values["account.1.user_name"] == second.lstrip("+")
    assert values["account.1.sip_server.1.address"] == platform.settings.sip_domain
    assert values["local_time.time_zone_name"] == "France(Paris)"
    assert values["lang.gui"] == "English"  # the customer's language
    password = values["account.1.password"]
    with platform.session() as session:
        service = session.scalar(select(Service).where(Service.number_e164 == second))
        # The file's password is the line's: the switch accepts it from now on.
        assert service.sip_ha1 == digest_ha1(
            service.sip_username, platform.settings.sip_domain, password
        )
        whats = [e.what for e in session.scalars(select(ServiceEvent).order_by(ServiceEvent.id))]
        assert "Plug & Phone Yealink SIP-T46U 00:15:65:12:34:56 attached" in whats

    # Any other MAC, or this MAC's path asked by another device, gets the same plain 404.
    other = client.get("/provisioning/001565123457.cfg", headers={"User-Agent": UA})
    assert other.status_code == 404 and "password" not in other.text
    spoofed = client.get("/provisioning/001565123456.cfg", headers={"User-Agent": "curl/8"})
    assert spoofed.status_code == 404
    assert client.get("/provisioning/not-a-mac.cfg").status_code == 404

    # Detached, the phone gets no file any more.
    client.delete(line_url(group, second, "/phone"), headers=headers)
    assert (
        client.get("/provisioning/001565123456.cfg", headers={"User-Agent": UA}).status_code == 404
    )


def test_bad_macs_are_refused_and_nothing_is_stored(client):
    platform, customer, group, (first, _second) = setup(client, phones=True)
    headers = auth(client, customer)
    client.delete(line_url(group, first, "/phone"), headers=headers)
    malformed = client.put(
        line_url(group, first, "/phone"), json={"mac": "00:15:65"}, headers=headers
    )
    assert malformed.status_code == 422 and malformed.json()["type"].endswith(
        "mac-address-malformed"
    )
    assert (
        client.put(line_url(group, first, "/phone"), json={"mac": MAC}, headers=headers).status_code
        == 200
    )
    # Another customer types the same MAC: it is attached elsewhere.
    _p, other, other_group, (their_line, _l) = setup(client, phones=True)
    theirs = auth(client, other)
    client.delete(line_url(other_group, their_line, "/phone"), headers=theirs)
    taken = client.put(
        line_url(other_group, their_line, "/phone"), json={"mac": MAC}, headers=theirs
    )
    assert taken.status_code == 409 and taken.json()["type"].endswith(
        "mac-address-already-attached"
    )
    # A group with no free lent phone.
    _p, lonely, lonely_group, (lonely_line, _x) = setup(client)
    none = client.put(
        line_url(lonely_group, lonely_line, "/phone"),
        json={"mac": "00:15:65:99:99:99"},
        headers=auth(client, lonely),
    )
    assert none.status_code == 409 and none.json()["type"].endswith("no-lent-phone-free")
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(Phone)) == 1


def test_a_returned_phone_has_its_deposit_refunded_through_the_provider(client, clock):
    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    customer = make_account(platform, language="en")
    mark_validated(platform, customer)
    order = create(
        platform,
        customer,
        Cart(lines=[CartLine("sip-entreprise", 1, area="+331", phone="phone-pnp-pro")]),
    )
    payment = pay(platform, customer, order.id)
    drain(platform)
    with platform.session() as session:
        loan = session.scalars(select(PhoneLoan).where(PhoneLoan.account_id == customer.id)).one()
        group = loan.billing_group_id
        deposit = loan.deposit
        reference = session.get(Payment, payment.id).provider_reference
    assert deposit > 0 and reference
    headers = auth(client, customer)

    returned = client.post(f"/api/v1/telephony/{group}/phones/{loan.id}/return", headers=headers)
    assert returned.status_code == 200, returned.text
    assert returned.json()["state"] == "return_opened"
    assert returned.json()["return_due_on"] == "2026-03-17"  # 15 days
    with platform.session() as session:
        email = session.scalars(
            select(ServiceEmail).where(ServiceEmail.kind == "hardware-return")
        ).one()
        assert platform.settings.operator_postal_address in email.body_text
        assert "15 days" in email.body_text and "17" in email.body_text
    staff = staff_headers(client)
    waiting = client.get("/api/v1/backoffice/phone-returns", headers=staff).json()["items"]
    assert [p["id"] for p in waiting] == [loan.id]
    refused = client.post(
        f"/api/v1/backoffice/phone-returns/{loan.id}/refuse",
        json={"reason": "The parcel held another phone."},
        headers=staff,
    )
    assert refused.status_code == 200 and refused.json()["state"] == "return_opened"
    assert refused.json()["return_refused_reason"] == "The parcel held another phone."
    clock.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    received = client.post(f"/api/v1/backoffice/phone-returns/{loan.id}/receive", headers=staff)
    assert received.status_code == 200, received.text
    assert received.json()["refund_due_on"] == "2026-03-20"

    clock.move_to(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    assert subscription_actions.refund_due_deposits(platform) == 1
    drain(platform)
    with platform.session() as session:
        refunds = session.scalars(
            select(SandboxCharge).where(SandboxCharge.status == "refunded")
        ).all()
        # Exactly the deposit, against the order's payment (the rest of the order stays paid).
        assert [(r.amount, r.metadata_["refund_of"]) for r in refunds] == [(deposit, reference)]
        assert session.get(SandboxCharge, reference).status == "succeeded"
        assert session.get(PhoneLoan, loan.id).state == "refunded"
    assert subscription_actions.refund_due_deposits(platform) == 0
    drain(platform)
    with platform.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(SandboxCharge)
                .where(SandboxCharge.status == "refunded")
            )
            == 1
        )
    phones = client.get(f"/api/v1/telephony/{group}/phones", headers=headers).json()["items"]
    assert phones[0]["state"] == "refunded" and phones[0]["refunded_at"]
    assert Decimal(phones[0]["deposit"]["amount"]) == deposit
