"""Orders against both databases: creation, payment, delivery, expiry, cancellation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import select

from tests.orders.helpers import (
    CONFIRM_CARD,
    DECLINED_CARD,
    create,
    email_kinds,
    emails,
    load,
    pay,
    run_outbox,
)
from voipdesk.accounts.models import Account
from voipdesk.catalogue.errors import NumberNotAvailable, OfferNotSoldInCountry, UnknownOffer
from voipdesk.catalogue.models import InventoryNumber
from voipdesk.core.clock import MovableClock
from voipdesk.core.platform import Platform
from voipdesk.orders import actions, rules
from voipdesk.orders.actions import Cart, CartLine, PaymentRequest
from voipdesk.orders.errors import (
    EmptyCart,
    OrderExpired,
    OrderNotCancellable,
    OrderNotPayable,
    QuantityOutOfRange,
    SimultaneousCallsOutOfRange,
)
from voipdesk.payments.provider import get_provider
from voipdesk.subscriptions.models import Service


def numbers_of(platform: Platform, order_id: str) -> list[InventoryNumber]:
    with platform.session() as session:
        return list(
            session.scalars(
                select(InventoryNumber).where(InventoryNumber.reserved_order_id == order_id)
            )
        )


def test_order_lists_products_prices_and_totals(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer)
    assert order.state == rules.NOT_PAID
    assert order.number.startswith("VD-2026-")
    assert order.expires_at == order.created_at + timedelta(days=15)
    assert order.allowed_payment_methods == ["card", "sepa_debit"]  # FR individual
    assert order.billing_contact["email"] == customer.email
    lines = {line.offer_code: line for line in load(seeded, order.id).lines}
    # 2 March -> 31 March: 30 of 31 days of the monthly price
    assert lines["sip-decouverte"].unit_price_excl_tax == Decimal("1.93")
    assert lines["sip-decouverte"].monthly_price_excl_tax == Decimal("1.99")
    assert lines["alias-number"].details["pool"] is True
    assert len(lines["alias-number"].details["numbers"]) == 10
    assert order.subtotal_excl_tax == Decimal("1.93") * 2 + Decimal("0.97") * 10
    assert order.total_tax == (order.total_excl_tax * Decimal("0.20")).quantize(Decimal("0.01"))
    assert order.total_incl_tax == order.total_excl_tax + order.total_tax
    assert len(numbers_of(seeded, order.id)) == 12
    created = emails(seeded, customer)
    assert [email.kind for email in created] == ["order-created"]
    assert order.number in created[0].subject


def test_promotion_code_discounts_the_order(seeded: Platform, customer: Account) -> None:
    order = create(
        seeded,
        customer,
        Cart(
            lines=[CartLine("sip-entreprise", 1, area="+331", simultaneous_calls=5)],
            promotion_code="bienvenue10",
        ),
    )
    line = load(seeded, order.id).lines[0]
    assert line.monthly_price_excl_tax == Decimal("9.99") + 4 * Decimal("1.00")
    assert order.promotion_code == "BIENVENUE10"
    assert order.discount_excl_tax == (order.subtotal_excl_tax / 10).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("cart", "error"),
    [
        (Cart(lines=[]), EmptyCart),
        (Cart(lines=[CartLine("sip-platinum", 1)]), UnknownOffer),
        (Cart(lines=[CartLine("alias-number", 101)]), QuantityOutOfRange),
        (Cart(lines=[CartLine("sip-decouverte", 51)]), QuantityOutOfRange),
        (
            Cart(lines=[CartLine("sip-decouverte", 1, simultaneous_calls=2)]),
            SimultaneousCallsOutOfRange,
        ),
        (
            Cart(lines=[CartLine("sip-entreprise", 1, simultaneous_calls=101)]),
            SimultaneousCallsOutOfRange,
        ),
    ],
)
def test_bad_carts_are_refused_and_reserve_nothing(
    seeded: Platform, customer: Account, cart: Cart, error: type[Exception]
) -> None:
    with pytest.raises(error):
        create(seeded, customer, cart)
    with seeded.session() as session:
        assert (
            session.scalar(select(InventoryNumber).where(InventoryNumber.status != "free")) is None
        )


def test_offer_not_sold_in_the_customers_country(seeded: Platform, customer_factory) -> None:  # type: ignore[no-untyped-def]
    quebec = customer_factory(country="CA-QC")
    with pytest.raises(OfferNotSoldInCountry):
        create(seeded, quebec, Cart(lines=[CartLine("fax-line", 1)]))


def test_a_number_taken_by_another_order_is_refused(
    seeded: Platform, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    first = create(
        seeded, customer, Cart(lines=[CartLine("alias-number", 1, numbers=["01 86 95 00 05"])])
    )
    assert load(seeded, first.id).lines[0].details["numbers"] == ["+33186950005"]
    other = customer_factory()
    with pytest.raises(NumberNotAvailable):
        create(seeded, other, Cart(lines=[CartLine("alias-number", 1, numbers=["+33186950005"])]))


def test_paying_with_a_sandbox_card_delivers_the_order(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer)
    payment = pay(seeded, customer, order.id)
    assert payment.status == "succeeded"
    assert load(seeded, order.id).state == rules.DELIVERING
    assert all(number.status == "assigned" for number in numbers_of(seeded, order.id))
    run_outbox(seeded)
    delivered = load(seeded, order.id)
    assert delivered.state == rules.DELIVERED
    assert delivered.invoice_id is not None
    assert delivered.delivery is not None and len(delivered.delivery["sip_lines"]) == 2
    assert email_kinds(seeded, customer) == [
        "order-created",
        "order-payment-received",
        "order-delivered",
    ]
    access = emails(seeded, customer)[-1]
    group = delivered.delivery["billing_group_id"]
    for number in delivered.delivery["sip_lines"]:
        assert number in access.body_text
        # No SIP password is mailed (it would stay in the service e-mails): the e-mail links the
        # line page, where the customer makes one that is shown once.
        page = f"/telephony/{group}/lines/{quote(number)}"
        assert page in access.body_text and page in access.body_html
    with seeded.session() as session:
        lines = session.scalars(
            select(Service).where(Service.number_e164.in_(delivered.delivery["sip_lines"]))
        ).all()
        assert len(lines) == 2 and all(line.sip_ha1 is None for line in lines)
    assert "password" not in str(delivered.delivery)
    assert [event.to_state for event in delivered.events] == [
        rules.NOT_PAID,
        rules.DELIVERING,
        rules.DELIVERED,
    ]


def test_a_declined_card_leaves_the_order_unpaid(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer)
    payment = pay(seeded, customer, order.id, PaymentRequest(card=DECLINED_CARD))
    assert payment.status == "failed" and payment.failure_code == "card-declined"
    run_outbox(seeded)
    assert load(seeded, order.id).state == rules.NOT_PAID
    # a second try with a good card works
    assert pay(seeded, customer, order.id).status == "succeeded"


def test_a_card_needing_confirmation_is_paid_once_confirmed(
    seeded: Platform, customer: Account
) -> None:
    order = create(seeded, customer)
    payment = pay(seeded, customer, order.id, PaymentRequest(card=CONFIRM_CARD))
    assert payment.status == "requires_confirmation" and payment.confirmation_url
    assert load(seeded, order.id).state == rules.NOT_PAID
    with seeded.transaction() as session:
        get_provider(seeded).confirm(session, payment.provider_reference or "", approve=True)
    run_outbox(seeded)  # the provider's signed webhook arrives
    assert load(seeded, order.id).state == rules.DELIVERED


def test_paying_an_expired_order_is_refused(
    seeded: Platform, customer: Account, clock: MovableClock
) -> None:
    order = create(seeded, customer)
    clock.advance(timedelta(days=15))
    with pytest.raises(OrderExpired):
        pay(seeded, customer, order.id)
    assert load(seeded, order.id).state == rules.NOT_PAID


def test_paying_a_cancelled_order_is_refused(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer)
    with seeded.transaction() as session:
        actions.cancel_order(session, seeded, customer, order.id)
    assert load(seeded, order.id).state == rules.CANCELLED
    assert numbers_of(seeded, order.id) == []  # released
    with pytest.raises(OrderNotPayable):
        pay(seeded, customer, order.id)


def test_a_paid_order_cannot_be_cancelled_nor_paid_again(
    seeded: Platform, customer: Account
) -> None:
    order = create(seeded, customer)
    pay(seeded, customer, order.id)
    with pytest.raises(OrderNotCancellable), seeded.transaction() as session:
        actions.cancel_order(session, seeded, customer, order.id)
    with pytest.raises(OrderNotPayable):
        pay(seeded, customer, order.id)


def test_unpaid_orders_are_reminded_then_expire_and_disappear(
    seeded: Platform, customer: Account, clock: MovableClock
) -> None:
    order = create(seeded, customer)
    clock.advance(timedelta(days=11))
    assert actions.remind_expiring_orders(seeded) == 0
    clock.advance(timedelta(days=1))
    assert actions.remind_expiring_orders(seeded) == 1
    assert actions.remind_expiring_orders(seeded) == 0  # once
    clock.advance(timedelta(days=3))
    assert actions.expire_due_orders(seeded) == 1
    assert actions.expire_due_orders(seeded) == 0
    assert load(seeded, order.id).state == rules.EXPIRED
    assert numbers_of(seeded, order.id) == []
    assert email_kinds(seeded, customer) == ["order-created", "order-expiring", "order-expired"]
    with seeded.session() as session:
        listed, _ = actions.list_orders(session, seeded, account_id=customer.id)
    assert listed == []


def test_an_order_past_its_expiry_is_hidden_before_the_job_runs(
    seeded: Platform, customer: Account, clock: MovableClock
) -> None:
    create(seeded, customer)
    with seeded.session() as session:
        assert len(actions.list_orders(session, seeded, account_id=customer.id)[0]) == 1
    clock.advance(timedelta(days=15, seconds=1))
    with seeded.session() as session:
        assert actions.list_orders(session, seeded, account_id=customer.id)[0] == []


def test_expired_reservations_free_their_numbers(
    seeded: Platform, customer: Account, customer_factory, clock
) -> None:  # type: ignore[no-untyped-def]
    create(seeded, customer, Cart(lines=[CartLine("alias-number", 1, numbers=["+33186950007"])]))
    clock.advance(timedelta(days=16))
    other = customer_factory()
    order = create(
        seeded, other, Cart(lines=[CartLine("alias-number", 1, numbers=["+33186950007"])])
    )
    assert order.state == rules.NOT_PAID


def test_validation_rule_holds_the_order_until_released(
    seeded: Platform, customer: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voipdesk.orders.actions import ordering, paying

    for module in (ordering, paying):  # where the payment and the follow-up ask the gate
        monkeypatch.setattr(module, "requires_validation", lambda session, order: True)
    order = create(seeded, customer)
    pay(seeded, customer, order.id)
    run_outbox(seeded)
    held = load(seeded, order.id)
    assert held.state == rules.VALIDATION
    # One e-mail about the order, saying it waits for the procedure (the procedure's own e-mail
    # with the PDF is the validation area's); no second "documents requested" e-mail.
    [paid] = [e for e in emails(seeded, customer) if e.kind == "order-payment-received"]
    assert "once your VoIP validation procedure is approved" in paid.body_text
    assert "order-documents-requested" not in email_kinds(seeded, customer)
    with seeded.session() as session:
        steps = actions.follow_up_of(session, held)
    assert next(step for step in steps if step.code == "validation").action_needed
    with seeded.transaction() as session:
        assert actions.order_ids_in_validation(session, customer.id) == [order.id]
        actions.release_order_after_validation(session, seeded, order.id)
    with seeded.transaction() as session:
        actions.release_order_after_validation(session, seeded, order.id)  # idempotent
    run_outbox(seeded)
    assert load(seeded, order.id).state == rules.DELIVERED


def test_another_customers_order_is_not_found(
    seeded: Platform, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.orders.errors import OrderNotFound

    order = create(seeded, customer)
    stranger = customer_factory()
    with pytest.raises(OrderNotFound):
        pay(seeded, stranger, order.id)
    with seeded.session() as session, pytest.raises(OrderNotFound):
        actions.get_order(session, stranger.id, order.id)
