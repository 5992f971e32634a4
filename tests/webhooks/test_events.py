"""Every webhook event type is produced: the producing areas publish their domain event in the
change's own transaction, and the webhooks area forwards it once, whatever repeats."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.billing.test_manual_and_cards import _card
from tests.subscriptions.factories import deliver
from tests.validation.helpers import approve, record_all_valid, request
from tests.webhooks.conftest import Receiver
from voipdesk.accounts.models import Account
from voipdesk.core.clock import MovableClock
from voipdesk.core.events import drain_events, publish
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.validation import actions as validation
from voipdesk.webhooks import actions
from voipdesk.webhooks.models import WebhookDelivery, WebhookMessage


def _endpoint(platform: Platform, staff: Account, receiver: Receiver, types: list[str]) -> None:
    with platform.transaction() as session:
        endpoint = actions.register_endpoint(
            session, platform, staff.id, actions.EndpointForm(url=receiver.url, event_types=types)
        )
        receiver.secret = endpoint.secret


def _received(receiver: Receiver, event_type: str) -> list[dict[str, Any]]:
    assert all(receiver.signed(request) for request in receiver.requests)
    return [r.json["data"] for r in receiver.requests if r.json["type"] == event_type]


def test_procedures_approved_and_rejected_are_sent(
    seeded: Platform, staff: Account, receiver: Receiver
) -> None:
    _endpoint(seeded, staff, receiver, ["procedure.approved", "procedure.rejected"])
    customer = make_account(seeded, language="en")
    procedure = request(seeded, customer)
    with seeded.transaction() as session:
        validation.record_document(
            session, seeded, staff, procedure.id, "signed_mandate", "invalid", "not signed"
        )
    with seeded.transaction() as session:
        validation.reject(session, seeded, staff, procedure.id, "The mandate is not signed.")
    record_all_valid(seeded, staff, procedure)
    approve(seeded, staff, procedure.id)
    drain(seeded)
    (rejected,) = _received(receiver, "procedure.rejected")
    assert rejected["procedure_id"] == procedure.id
    assert rejected["account_id"] == customer.id
    assert rejected["reason"] == "The mandate is not signed."
    (approved,) = _received(receiver, "procedure.approved")
    assert approved == {"procedure_id": procedure.id, "account_id": customer.id}


def test_a_renewal_not_paid_by_card_sends_invoice_issued_and_service_suspended(
    platform: Platform, staff: Account, receiver: Receiver, clock: MovableClock
) -> None:
    from datetime import UTC, datetime

    from voipdesk.billing.actions import collect_pending_cards
    from voipdesk.billing.dunning import run_dunning
    from voipdesk.billing.renewal import run_renewal

    _endpoint(platform, staff, receiver, ["service.suspended", "invoice.paid"])
    good, bad = make_account(platform), make_account(platform)
    _card(platform, good.id, "succeeds")
    _card(platform, bad.id, "declined")
    for account in (good, bad):
        deliver(platform, account.id, lines=[("sip-entreprise", 1)])
    run_renewal(platform, date(2026, 4, 1))
    collect_pending_cards(platform)
    drain(platform)
    # A declined card suspends nothing at once: the dunning does, on its day (billing.rules).
    assert _received(receiver, "service.suspended") == []
    clock.move_to(datetime(2026, 4, 29, 9, 0, tzinfo=UTC))  # 28 days after the due date
    run_dunning(platform)
    drain(platform)
    (suspended,) = _received(receiver, "service.suspended")
    assert suspended["account_id"] == bad.id and suspended["reason"] == "invoice_unpaid"
    (paid,) = _received(receiver, "invoice.paid")
    assert paid["account_id"] == good.id


def test_the_renewals_invoices_are_announced_once_each(
    platform: Platform, staff: Account, receiver: Receiver
) -> None:
    """The renewal writes its invoices in bulk SQL: each still publishes `invoices.issued`,
    with the same payload as an invoice issued one at a time, and a re-run announces none
    twice."""
    from voipdesk.billing.renewal import run_renewal
    from voipdesk.invoices.models import Invoice

    _endpoint(platform, staff, receiver, ["invoice.issued"])
    accounts = [make_account(platform) for _ in range(3)]
    for account in accounts:
        deliver(platform, account.id, lines=[("sip-entreprise", 1)], aliases=1)
    run_renewal(platform, date(2026, 4, 1))
    run_renewal(platform, date(2026, 4, 1))  # nothing missing: nothing announced again
    drain(platform)
    with platform.session() as session:
        invoices = {
            i.id: i
            for i in session.scalars(
                select(Invoice).where(Invoice.renewal_period == date(2026, 4, 1))
            )
        }
    assert len(invoices) == 3
    issued = _received(receiver, "invoice.issued")
    assert sorted(data["invoice_id"] for data in issued) == sorted(invoices)
    for data in issued:
        invoice = invoices[data["invoice_id"]]
        cents = invoice.total_incl_tax_cents
        assert data == {
            "invoice_id": invoice.id,
            "account_id": invoice.account_id,
            "number": invoice.number,
            "order_id": None,
            "billing_group_id": invoice.billing_group_id,
            "incl_tax": {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": "EUR"},
            "issued_on": "2026-04-01",
        }
    ids = [r.json["data"]["invoice_id"] for r in receiver.requests]
    assert len(ids) == len(set(ids))
    # The receiver can deduplicate: each delivery carries the event's stable id.
    assert all(r.headers["webhook-id"] for r in receiver.requests)


def test_a_manual_renewal_not_paid_sends_service_suspended_once(
    platform: Platform, staff: Account, receiver: Receiver, clock: MovableClock
) -> None:
    """The renewal suspends unpaid manual renewals in bulk SQL: each still reaches the
    endpoints as `service.suspended` (reason `renewal_unpaid`), once whatever re-runs."""
    from datetime import UTC, datetime

    from voipdesk.billing.renewal import run_renewal
    from voipdesk.subscriptions import actions as subscriptions
    from voipdesk.subscriptions.models import Service

    _endpoint(platform, staff, receiver, ["service.suspended"])
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[("sip-decouverte", 1)])
    with platform.session() as session:
        service_id = session.scalar(
            select(Service.id).where(Service.billing_group_id == result.billing_group_id)
        )
    with platform.transaction() as session:
        subscriptions.set_renewal_mode(session, platform, account.id, service_id, "manual")
    clock.move_to(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    run_renewal(platform, date(2026, 4, 1))
    drain(platform)
    (suspended,) = _received(receiver, "service.suspended")
    assert suspended == {
        "service_id": service_id,
        "account_id": account.id,
        "billing_group_id": result.billing_group_id,
        "invoice_id": None,
        "reason": "renewal_unpaid",
    }


def test_an_event_forwarded_twice_is_one_message_and_one_delivery(
    seeded: Platform, staff: Account, receiver: Receiver
) -> None:
    _endpoint(seeded, staff, receiver, ["order.paid"])
    payload = {"order_id": "o1", "account_id": "a1", "number": "C-1"}
    with seeded.transaction() as session:
        event_id = publish(session, "orders.paid", payload, now=seeded.now(), key="o1")
    with seeded.transaction() as session:
        publish(session, "orders.paid", payload, now=seeded.now(), key="o1")  # the same event
    drain_events(seeded)
    envelope = {"id": event_id, "name": "orders.paid", "published_at": None, "payload": payload}
    with seeded.transaction() as session:
        assert actions.forward_event(session, seeded, envelope) == 0  # a repeated consumer run
    drain(seeded)
    with seeded.session() as session:
        assert len(session.scalars(select(WebhookMessage)).all()) == 1
        assert len(session.scalars(select(WebhookDelivery)).all()) == 1
    assert len(receiver.requests) == 1
