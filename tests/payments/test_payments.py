"""Payment methods, the sandbox provider's webhooks, refunds, and two payments racing."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.orders.helpers import CONFIRM_CARD, GOOD_CARD, create, load, pay, run_outbox
from voipdesk.accounts.models import Account
from voipdesk.catalogue.errors import PaymentMethodNotAllowed
from voipdesk.core.clock import MovableClock
from voipdesk.core.errors import DomainError
from voipdesk.core.platform import Platform
from voipdesk.orders import actions, rules
from voipdesk.orders.actions import PaymentRequest, SepaInput
from voipdesk.orders.errors import OrderNotPayable
from voipdesk.payments import methods as payment_methods
from voipdesk.payments.errors import (
    DefaultPaymentMethodInUse,
    IbanNotSepa,
    InvalidBic,
    InvalidCard,
    InvalidIban,
    MandateNotAccepted,
    PaymentMethodNotFound,
    WebhookSignatureInvalid,
)
from voipdesk.payments.models import Payment, PaymentMethod
from voipdesk.payments.provider import get_provider, sign, webhook_secret

FR_IBAN = "FR14 2004 1010 0505 0001 3M02 606"
SEPA = SepaInput(
    iban=FR_IBAN,
    holder_name="Ada Lovelace",
    holder_address="1 rue du Test, 75002 Paris",
    accept_mandate=True,
)


def add_sepa(platform: Platform, account: Account, sepa: SepaInput = SEPA) -> PaymentMethod:
    with platform.transaction() as session:
        return actions.add_sepa_debit(session, platform, account, sepa)


def add_card(
    platform: Platform, account: Account, card: actions.CardInput = GOOD_CARD
) -> PaymentMethod:
    with platform.transaction() as session:
        return actions.add_card(session, platform, account, card)


def methods(platform: Platform, account: Account) -> list[PaymentMethod]:
    with platform.session() as session:
        return actions.list_payment_methods(session, account.id)


def test_first_method_is_the_default_and_the_default_can_change(
    seeded: Platform, customer: Account
) -> None:
    card = add_card(seeded, customer)
    sepa = add_sepa(seeded, customer)
    assert card.is_default and not sepa.is_default
    assert (
        card.card_last4 == "4242"
        and card.provider_token
        and "4242424242424242" not in str(card.provider_token)
    )
    assert sepa.mandate_reference and sepa.mandate_signed_on == seeded.today()
    assert sepa.iban == "FR1420041010050500013M02606"
    with seeded.transaction() as session:
        actions.set_default_payment_method(session, customer, sepa.id)
    defaults = {method.id: method.is_default for method in methods(seeded, customer)}
    assert defaults == {card.id: False, sepa.id: True}


def test_removing_the_default_moves_the_default(seeded: Platform, customer: Account) -> None:
    card = add_card(seeded, customer)
    sepa = add_sepa(seeded, customer)
    with seeded.transaction() as session:
        actions.remove_payment_method(session, seeded, customer, card.id)
    remaining = methods(seeded, customer)
    assert [method.id for method in remaining] == [sepa.id] and remaining[0].is_default


def test_default_used_by_auto_renewal_cannot_be_removed(
    seeded: Platform, customer: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = add_card(seeded, customer)
    monkeypatch.setattr(
        payment_methods,
        "auto_renewal_depends_on_default_method",
        lambda session, account_id: True,
    )
    with pytest.raises(DefaultPaymentMethodInUse), seeded.transaction() as session:
        actions.remove_payment_method(session, seeded, customer, card.id)
    assert [method.id for method in methods(seeded, customer)] == [card.id]


def test_mandate_references_are_unique(seeded: Platform, customer: Account) -> None:
    references = {add_sepa(seeded, customer).mandate_reference for _ in range(5)}
    assert len(references) == 5


@pytest.mark.parametrize(
    ("sepa", "error"),
    [
        (SepaInput("FR14 2004 1010 0505 0001 3M02 607", "A", "B", True), InvalidIban),
        (SepaInput("BR18 0036 0305 0000 1000 9795 493C 1", "A", "B", True), IbanNotSepa),
        (SepaInput(FR_IBAN, "A", "B", False), MandateNotAccepted),
        (SepaInput("DE89 3704 0044 0532 0130 00", "A", "B", True, bic="NOTABIC"), InvalidBic),
        (SepaInput(FR_IBAN, "", "B", True), DomainError),
    ],
)
def test_bad_sepa_details_are_refused(
    seeded: Platform, customer: Account, sepa: SepaInput, error: type
) -> None:
    with pytest.raises(error):
        add_sepa(seeded, customer, sepa)
    assert methods(seeded, customer) == []


def test_bad_cards_are_refused(seeded: Platform, customer: Account) -> None:
    for card in (
        actions.CardInput("4242424242424241", 12, 2030, "123"),  # Luhn
        actions.CardInput("4242424242424242", 1, 2026, "123"),  # expired (clock: March 2026)
        actions.CardInput("4242424242424242", 12, 2030, "12"),
    ):
        with pytest.raises(InvalidCard):
            add_card(seeded, customer, card)


def test_payment_methods_follow_country_and_account_kind(
    seeded: Platform, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    individual = customer_factory(kind="individual")
    with pytest.raises(PaymentMethodNotAllowed), seeded.transaction() as session:
        actions.add_bank_transfer(session, seeded, individual)
    company = customer_factory(kind="company", organisation_name="ACME SAS")
    with seeded.transaction() as session:
        assert actions.add_bank_transfer(session, seeded, company).method_type == "bank_transfer"
    quebec = customer_factory(country="CA-QC")
    with pytest.raises(PaymentMethodNotAllowed):
        add_sepa(seeded, quebec)


def test_another_customers_payment_method_is_not_found(
    seeded: Platform, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    card = add_card(seeded, customer)
    stranger = customer_factory()
    order = create(seeded, stranger)
    with pytest.raises(PaymentMethodNotFound):
        pay(seeded, stranger, order.id, PaymentRequest(payment_method_id=card.id))


def test_paying_with_the_default_sepa_mandate(seeded: Platform, customer: Account) -> None:
    add_sepa(seeded, customer)
    order = create(seeded, customer)
    payment = pay(seeded, customer, order.id, PaymentRequest())
    assert payment.method_type == "sepa_debit" and payment.status == "pending"
    assert load(seeded, order.id).state == rules.NOT_PAID
    run_outbox(seeded)  # the debit's result comes as a webhook
    assert load(seeded, order.id).state == rules.DELIVERED


def test_bank_transfer_is_paid_when_staff_records_it(seeded: Platform, customer_factory) -> None:  # type: ignore[no-untyped-def]
    company = customer_factory(kind="company", organisation_name="ACME SAS")
    order = create(seeded, company)
    payment = pay(seeded, company, order.id, PaymentRequest(method="bank_transfer"))
    assert payment.status == "awaiting_transfer"
    with seeded.transaction() as session:
        actions.record_bank_transfer(session, seeded, "staff", order.id)
    assert load(seeded, order.id).state == rules.DELIVERING


# --- webhooks ------------------------------------------------------------------------------------
def _signed(platform: Platform, event: dict, at: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    return body, sign(
        webhook_secret(platform), body, at if at is not None else int(platform.now().timestamp())
    )


def _handle(platform: Platform, body: bytes, signature: str) -> bool:
    event = get_provider(platform).verify_webhook(body, signature, platform.now())
    with platform.transaction() as session:
        return actions.handle_provider_event(
            session, platform, event.event_id, event.event_type, event.reference, event.data
        )


def test_forged_or_stale_webhooks_are_refused(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer)
    payment = pay(seeded, customer, order.id, PaymentRequest(card=CONFIRM_CARD))
    event = {
        "id": "evt_forged",
        "type": "payment.succeeded",
        "data": {"reference": payment.provider_reference},
    }
    body, signature = _signed(seeded, event)
    provider = get_provider(seeded)
    with pytest.raises(WebhookSignatureInvalid):
        provider.verify_webhook(body, signature.replace("v1=", "v1=0"), seeded.now())
    with pytest.raises(WebhookSignatureInvalid):
        provider.verify_webhook(body + b" ", signature, seeded.now())
    with pytest.raises(WebhookSignatureInvalid):
        provider.verify_webhook(body, None, seeded.now())
    old_body, old_signature = _signed(seeded, event, int(seeded.now().timestamp()) - 3600)
    with pytest.raises(WebhookSignatureInvalid):
        provider.verify_webhook(old_body, old_signature, seeded.now())
    assert load(seeded, order.id).state == rules.NOT_PAID


def test_a_replayed_webhook_changes_nothing(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer)
    payment = pay(seeded, customer, order.id, PaymentRequest(card=CONFIRM_CARD))
    with seeded.transaction() as session:
        get_provider(seeded).confirm(session, payment.provider_reference or "", approve=True)
    event = {
        "id": "evt_once",
        "type": "payment.succeeded",
        "data": {
            "reference": payment.provider_reference,
            "amount": f"{payment.amount:.2f}",
            "currency": payment.currency,
        },
    }
    body, signature = _signed(seeded, event)
    assert _handle(seeded, body, signature) is True
    assert _handle(seeded, body, signature) is False
    run_outbox(seeded)  # the provider's own event for the same payment: applied once only
    with seeded.session() as session:
        payments = list(session.scalars(select(Payment).where(Payment.order_id == order.id)))
    assert [p.status for p in payments] == ["succeeded"]
    assert load(seeded, order.id).state == rules.DELIVERED


def test_money_arriving_for_a_cancelled_order_is_refunded(
    seeded: Platform, customer: Account
) -> None:
    order = create(seeded, customer)
    payment = pay(seeded, customer, order.id, PaymentRequest(card=CONFIRM_CARD))
    with seeded.transaction() as session:
        # the customer confirms on the provider's page after cancelling in another tab
        charge = get_provider(seeded).confirm(
            session, payment.provider_reference or "", approve=True
        )
        assert charge is not None
        actions.cancel_order(session, seeded, customer, order.id)
    run_outbox(seeded)
    with seeded.session() as session:
        stored = session.get(Payment, payment.id)
        assert stored is not None and stored.status == "refunded"
    assert load(seeded, order.id).state == rules.CANCELLED


def test_a_new_attempt_cancels_the_unconfirmed_one(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer)
    first = pay(seeded, customer, order.id, PaymentRequest(card=CONFIRM_CARD))
    second = pay(seeded, customer, order.id)
    assert second.status == "succeeded"
    with seeded.transaction() as session:
        # too late: the provider refuses to confirm a cancelled charge
        charge = get_provider(seeded).confirm(session, first.provider_reference or "", approve=True)
        assert charge is not None and charge.status == "cancelled"
    run_outbox(seeded)
    with pytest.raises(OrderNotPayable):
        pay(seeded, customer, order.id)


def test_expiry_waits_for_a_direct_debit_in_flight(
    seeded: Platform, customer: Account, clock: MovableClock
) -> None:
    add_sepa(seeded, customer)
    order = create(seeded, customer)
    pay(seeded, customer, order.id, PaymentRequest())
    clock.advance(timedelta(days=16))
    assert actions.expire_due_orders(seeded) == 0
    run_outbox(
        seeded
    )  # the debit succeeded, but the order is past its date: refunded, then expired
    assert actions.expire_due_orders(seeded) == 1
    assert load(seeded, order.id).state == rules.EXPIRED


# --- race ----------------------------------------------------------------------------------------
def test_two_payments_racing_for_one_order_only_one_wins(
    seeded: Platform, customer: Account
) -> None:
    # Threads use separate connections; PostgreSQL serialises them on the order row (FOR UPDATE),
    # SQLite on its write lock (BEGIN IMMEDIATE).
    order = create(seeded, customer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            payment = pay(seeded, customer, order.id)
            result = payment.status
        except OrderNotPayable:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "succeeded"]
    with seeded.session() as session:
        payments = list(session.scalars(select(Payment).where(Payment.order_id == order.id)))
    assert [p.status for p in payments] == ["succeeded"]
    assert load(seeded, order.id).state == rules.DELIVERING


def test_two_orders_racing_for_one_number_only_one_gets_it(
    seeded: Platform, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.catalogue.errors import NumberNotAvailable
    from voipdesk.orders.actions import Cart, CartLine

    other = customer_factory()
    cart = Cart(lines=[CartLine("alias-number", 1, numbers=["+33186950077"])])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(account: Account) -> None:
        barrier.wait()
        try:
            create(seeded, account, cart)
            result = "reserved"
        except NumberNotAvailable:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(account,)) for account in (customer, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "reserved"]


def test_the_default_card_of_auto_renewing_services_stays(
    seeded: Platform, customer: Account
) -> None:
    card = add_card(seeded, customer)
    order = create(seeded, customer)
    pay(seeded, customer, order.id, PaymentRequest(payment_method_id=card.id))
    run_outbox(seeded)  # delivered: the lines renew automatically every month
    with pytest.raises(DefaultPaymentMethodInUse), seeded.transaction() as session:
        actions.remove_payment_method(session, seeded, customer, card.id)
    sepa = add_sepa(seeded, customer)
    with seeded.transaction() as session:
        actions.set_default_payment_method(session, customer, sepa.id)
    with seeded.transaction() as session:
        actions.remove_payment_method(session, seeded, customer, card.id)  # no longer the default
    assert [method.id for method in methods(seeded, customer)] == [sepa.id]
