from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.accounts.models import ServiceEmail
from voipdesk.billing.actions import send_manual_renewal_reminders
from voipdesk.billing.renewal import run_renewal
from voipdesk.subscriptions import actions
from voipdesk.subscriptions.models import Service


def test_manual_renewal_reminds_then_suspends_then_deletes(platform, clock):
    account = make_account(platform)
    deliver(platform, account.id, lines=[("sip-decouverte", 1)])
    with platform.session() as session:
        service_id = session.scalars(select(Service.id)).one()
    with platform.transaction() as session:
        actions.set_renewal_mode(session, platform, account.id, service_id, "manual")
    sent = []
    for day in range(20, 32):
        clock.move_to(datetime(2026, 3, day, 8, 0, tzinfo=UTC))
        sent.append(send_manual_renewal_reminders(platform))
        send_manual_renewal_reminders(platform)  # twice a day: still one e-mail
    assert sum(sent) == 3  # 24 March (7 days), 30 March (1 day), 31 March (the day)
    with platform.session() as session:
        kinds = session.scalars(
            select(ServiceEmail.kind).where(ServiceEmail.account_id == account.id)
        ).all()
    assert kinds.count("service-renewal-reminder") == 3
    clock.move_to(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    summary = run_renewal(platform, date(2026, 4, 1))
    assert summary.services_suspended == 1 and summary.invoices_created == 0
    with platform.session() as session:
        assert session.get(Service, service_id).state == "suspended"
    # Grace period (15 days after expiry on 31 March): deleted by the next renewal after it.
    summary = run_renewal(platform, date(2026, 5, 1))
    assert summary.services_deleted == 1
    with platform.session() as session:
        assert session.get(Service, service_id).state == "deleted"


def test_cancel_at_expiry_deletes_at_renewal_and_is_not_invoiced(platform, clock):
    account = make_account(platform)
    deliver(platform, account.id, lines=[("sip-decouverte", 1)], aliases=1)
    with platform.session() as session:
        line = session.scalars(select(Service).where(Service.kind == "sip_line")).one()
    with platform.transaction() as session:
        actions.cancel_at_expiry(session, platform, account.id, line.id, "competitor", None)
    summary = run_renewal(platform, date(2026, 4, 1))
    assert summary.services_cancelled_at_expiry == 1 and summary.services_renewed == 1
    with platform.session() as session:
        assert session.get(Service, line.id).state == "deleted"


def _card(platform, account_id, outcome):
    from voipdesk.core.db import new_id
    from voipdesk.payments.models import PaymentMethod

    with platform.transaction() as session:
        session.add(
            PaymentMethod(
                id=new_id(),
                account_id=account_id,
                method_type="card",
                is_default=True,
                label="card",
                provider="sandbox",
                provider_token=f"sbx_tok_{outcome}_{new_id()[:8]}",
                card_last4="4242",
                created_at=platform.now(),
            )
        )


def test_card_collections_pay_or_tell_the_customer(platform, clock):
    from voipdesk.billing.actions import collect_pending_cards
    from voipdesk.invoices.models import Invoice

    good, bad = make_account(platform), make_account(platform)
    _card(platform, good.id, "succeeds")
    _card(platform, bad.id, "declined")
    for account in (good, bad):
        deliver(platform, account.id, lines=[("sip-entreprise", 1)])
    summary = run_renewal(platform, date(2026, 4, 1))
    assert summary.card_collections == 2
    assert collect_pending_cards(platform) == 2
    assert collect_pending_cards(platform) == 0  # charged once
    with platform.session() as session:
        status = {i.account_id: i.status for i in session.scalars(select(Invoice))}
        states = {s.account_id: s.state for s in session.scalars(select(Service))}
    assert status == {good.id: "paid", bad.id: "unpaid"}
    # A declined card suspends nothing at once: the customer is told, with a link to pay, and
    # the dunning (billing.rules) suspends only at its date.
    assert states == {good.id: "active", bad.id: "active"}
    from voipdesk.accounts.models import ServiceEmail

    with platform.session() as session:
        [mail] = session.scalars(
            select(ServiceEmail).where(ServiceEmail.kind == "invoice-collection-failed")
        ).all()
    assert mail.account_id == bad.id and "/invoices/" in mail.body_text
