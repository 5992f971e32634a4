"""End to end with the orders area: the first VoIP order waits for the procedure, the next don't."""

from __future__ import annotations

from tests.orders.helpers import create, load, pay
from tests.validation.helpers import approve, emails, pdf_text, record_all_valid, request
from voipdesk.accounts.models import Account
from voipdesk.core.events import drain_events
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.orders import actions as order_actions
from voipdesk.orders import rules as order_rules
from voipdesk.orders.actions import Cart, CartLine
from voipdesk.validation import actions, rules

ONE_LINE = Cart(lines=[CartLine(offer="sip-decouverte", quantity=1, area="+331")])
PHONE_ONLY = Cart(lines=[CartLine(offer="phone-pnp-essential", quantity=1)])


def test_first_order_waits_for_validation_then_the_next_goes_straight_to_delivery(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    first = create(seeded, customer, ONE_LINE)
    with seeded.session() as session:
        unpaid = order_actions.get_order(session, customer.id, first.id)
        # Before payment the follow-up already announces the manual checks, and opens nothing.
        steps = order_actions.follow_up_of(session, unpaid)
        assert any(step.code == "validation" for step in steps)
        assert actions.open_procedure_of(session, customer.id) is None

    pay(seeded, customer, first.id)
    assert load(seeded, first.id).state == order_rules.VALIDATION
    with seeded.session() as session:
        procedure = actions.open_procedure_of(session, customer.id)
        assert procedure is not None
        assert procedure.reason == rules.REASON_FIRST_ORDER
        assert procedure.context["order_ids"] == [first.id]
        follow = order_actions.follow_up_of(
            session, order_actions.get_order(session, customer.id, first.id)
        )
        current = next(step for step in follow if step.code == "validation")
        assert current.status == order_rules.STEP_CURRENT and current.action_needed

    drain(seeded)
    [email] = emails(seeded, customer, "validation-procedure")
    assert email.subject.endswith(
        "Nous attendons votre procédure VoIP pour finaliser votre commande."
    )
    assert procedure.mandate_reference in pdf_text(email.attachments[0].data)
    assert "Votre commande VoIP sera livrée" in email.body_text
    with seeded.session() as session:
        procedure = actions.get_procedure(session, None, procedure.id)
        assert procedure.status == rules.WAITING_FOR_CUSTOMER
    # Paid by card: the customer gives the bank account of the SEPA mandate (the PDF is sent
    # again with it); staff cannot approve a mandate without its debtor and IBAN.
    request(seeded, customer)
    record_all_valid(seeded, staff, procedure)
    assert load(seeded, first.id).state == order_rules.VALIDATION
    approve(seeded, staff, procedure.id)
    drain_events(seeded, only="validation.approved")  # orders releases its orders on the event
    assert load(seeded, first.id).state == order_rules.DELIVERING
    drain(seeded)
    assert load(seeded, first.id).state == order_rules.DELIVERED

    second = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, second.id)
    assert load(seeded, second.id).state == order_rules.DELIVERING
    drain(seeded)
    assert load(seeded, second.id).state == order_rules.DELIVERED
    assert len(emails(seeded, customer, "validation-procedure")) == 2  # opened, then completed


def test_two_orders_paid_before_approval_share_one_procedure(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    first = create(seeded, customer, ONE_LINE)
    second = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, first.id)
    pay(seeded, customer, second.id)
    drain(seeded)
    with seeded.session() as session:
        procedure = actions.open_procedure_of(session, customer.id)
        assert procedure is not None
        assert procedure.context["order_ids"] == [first.id, second.id]
    assert len(emails(seeded, customer, "validation-procedure")) == 1
    request(seeded, customer)  # the bank account of the mandate
    record_all_valid(seeded, staff, procedure)
    approve(seeded, staff, procedure.id)
    drain(seeded)
    assert load(seeded, first.id).state == order_rules.DELIVERED
    assert load(seeded, second.id).state == order_rules.DELIVERED


def test_hardware_alone_and_validated_accounts_skip_the_procedure(
    seeded: Platform, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    phone = create(seeded, customer, PHONE_ONLY)
    pay(seeded, customer, phone.id)
    assert load(seeded, phone.id).state == order_rules.DELIVERING
    trusted = customer_factory()
    with seeded.transaction() as session:
        actions.mark_validated(session, seeded, trusted.id)
    order = create(seeded, trusted, ONE_LINE)
    pay(seeded, trusted, order.id)
    assert load(seeded, order.id).state == order_rules.DELIVERING
    with seeded.session() as session:
        assert actions.open_procedure_of(session, customer.id) is None


def test_a_new_procedure_after_a_cancelled_one_still_releases_the_order(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)
    drain(seeded)
    with seeded.transaction() as session:
        opened = actions.open_procedure_of(session, customer.id)
        assert opened is not None
        owner = session.get(Account, customer.id)
        actions.cancel_procedure(session, seeded, owner, opened.id)
    with seeded.session() as session:
        assert actions.is_required(session, customer.id)  # the order still waits
    again = request(seeded, customer)
    assert again.reason == rules.REASON_FIRST_ORDER and again.context["order_ids"] == [order.id]
    record_all_valid(seeded, staff, again)
    approve(seeded, staff, again.id)
    drain(seeded)
    assert load(seeded, order.id).state == order_rules.DELIVERED


def test_a_mandate_without_debtor_or_iban_cannot_be_approved_until_the_customer_gives_it(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    import pytest

    from voipdesk.validation.errors import MandateIncomplete

    order = create(seeded, customer, ONE_LINE)
    pay(seeded, customer, order.id)  # by card: the procedure opens with no bank account
    drain(seeded)
    with seeded.session() as session:
        procedure = actions.open_procedure_of(session, customer.id)
        assert procedure is not None and procedure.iban is None
    record_all_valid(seeded, staff, procedure)
    with pytest.raises(MandateIncomplete):
        approve(seeded, staff, procedure.id)
    assert load(seeded, order.id).state == order_rules.VALIDATION  # nothing changed
    request(seeded, customer)  # the customer gives the bank account while staff review
    approve(seeded, staff, procedure.id)
    drain(seeded)
    assert load(seeded, order.id).state == order_rules.DELIVERED
