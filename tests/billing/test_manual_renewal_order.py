"""A manual renewal is a purchase order; paying it renews the service for the next month."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing.actions import send_manual_renewal_reminders
from voipdesk.billing.models import ManualRenewal
from voipdesk.billing.renewal import run_renewal
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.outbox import drain
from voipdesk.payments.provider import TEST_CARD_SUCCEEDS
from voipdesk.subscriptions import actions
from voipdesk.subscriptions.models import Service

CARD = {"number": TEST_CARD_SUCCEEDS, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def test_paying_the_manual_renewal_order_renews_the_service(client, clock):
    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    account = make_account(platform)
    deliver(platform, account.id, lines=[("sip-decouverte", 1)])
    with platform.session() as session:
        service_id = session.scalars(select(Service.id)).one()
    with platform.transaction() as session:
        actions.set_renewal_mode(session, platform, account.id, service_id, "manual")
    for day in (24, 30):  # two reminders: still one order
        clock.move_to(datetime(2026, 3, day, 8, 0, tzinfo=UTC))
        assert send_manual_renewal_reminders(platform) == 1
    with platform.session() as session:
        renewal = session.scalars(select(ManualRenewal)).one()
    assert renewal.period_start == date(2026, 4, 1) and renewal.paid_at is None
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}", "Accept-Language": "en"}
    order = client.get(f"/api/v1/orders/{renewal.order_id}", headers=headers).json()
    assert order["state"] == "not_paid"
    assert order["totals"]["excl_tax"]["amount"] == "1.99"  # one full month
    paid = client.post(
        f"/api/v1/orders/{renewal.order_id}/payments", json={"card": CARD}, headers=headers
    )
    assert paid.status_code == 201, paid.text
    drain(platform)
    drain(platform)  # a repeat changes nothing
    with platform.session() as session:
        service = session.get(Service, service_id)
        assert service.expiry_on == date(2026, 4, 30) and service.state == "active"
        assert session.scalars(select(ManualRenewal)).one().paid_at is not None
    clock.move_to(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    summary = run_renewal(platform, date(2026, 4, 1))
    assert summary.services_suspended == 0 and summary.invoices_created == 0
