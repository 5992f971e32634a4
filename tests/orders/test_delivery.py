"""What delivery asks the subscriptions area to create, what the invoice holds, the e-mails."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.orders.helpers import create, emails, load, pay, run_outbox
from voipdesk.accounts.models import Account
from voipdesk.catalogue.rules import TaxComponent
from voipdesk.core.platform import Platform
from voipdesk.orders import actions, rules
from voipdesk.orders.actions import Cart, CartLine


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list:
    """Records the delivery requests while still calling the subscriptions area."""
    from voipdesk.subscriptions import provisioning

    requests: list = []
    real = provisioning.provision_delivery

    def spy(session, platform, request):  # type: ignore[no-untyped-def]
        requests.append(request)
        return real(session, platform, request)

    monkeypatch.setattr(provisioning, "provision_delivery", spy)
    return requests


RICH_CART = Cart(
    lines=[
        CartLine(
            "sip-entreprise",
            2,
            area="+334",
            simultaneous_calls=3,
            options=["option-mobile-hours-10"],
            phone="phone-pnp-pro",
        ),
        CartLine("alias-number", 1, numbers=["+33972170003"]),
        CartLine("fax-line", 1, area="+331"),
        CartLine("phone-pnp-dect", 1),
    ],
    promotion_code="REMISE5",
)


def test_delivery_request_holds_everything_ordered(
    seeded: Platform, customer: Account, captured: list
) -> None:
    order = create(seeded, customer, RICH_CART)
    pay(seeded, customer, order.id)
    run_outbox(seeded)
    assert load(seeded, order.id).state == rules.DELIVERED
    (request,) = captured
    assert request.order_id == order.id and request.account_id == customer.id
    assert len(request.sip_lines) == 2
    line = request.sip_lines[0]
    assert line.offer_code == "sip-entreprise" and line.simultaneous_calls == 3
    assert line.option_codes == ["option-mobile-hours-10"]
    assert line.monthly_price_excl_tax == Decimal("11.99")  # 9.99 + 2 extra calls
    assert line.number_e164.startswith("+334")
    assert [alias.number_e164 for alias in request.alias_numbers] == ["+33972170003"]
    assert request.alias_pool is False
    assert len(request.fax_lines) == 1
    loans = sorted((loan.hardware_code, loan.for_line_number) for loan in request.phone_loans)
    assert loans[0] == ("phone-pnp-dect", None)
    assert {loan[1] for loan in loans[1:]} == {sip.number_e164 for sip in request.sip_lines}
    assert all(loan.deposit > 0 for loan in request.phone_loans)


def test_delivery_runs_once_even_if_the_message_repeats(
    seeded: Platform, customer: Account, captured: list
) -> None:
    order = create(seeded, customer)
    pay(seeded, customer, order.id)
    run_outbox(seeded)
    from voipdesk.subscriptions.delivery import deliver

    with seeded.transaction() as session:
        deliver(seeded, session, order.id)  # a repeated delivery message
    assert len(captured) == 1


def test_invoice_lines_add_up_to_the_order(seeded: Platform, customer: Account) -> None:
    order = create(seeded, customer, RICH_CART)
    stored = load(seeded, order.id)
    lines = actions.invoice_lines_of(stored, "en")
    vat = (TaxComponent("VAT", Decimal("0.20")),)
    excl = sum((line["quantity"] * line["unit_price_excl_tax"] for line in lines), Decimal("0"))
    assert excl == stored.total_excl_tax
    discount = [line for line in lines if line["unit_price_excl_tax"] < 0]
    assert [line["description"] for line in discount] == ["Discount REMISE5"]
    assert discount[0]["tax_components"] == vat  # deposits are not discounted
    deposits = [line for line in lines if line["tax_components"] == ()]
    assert {line["description"] for line in deposits} == {
        "Plug & Phone Pro (deposit)",
        "Plug & Phone DECT (deposit)",
    }


def test_emails_are_in_the_customers_language(seeded: Platform, customer_factory) -> None:  # type: ignore[no-untyped-def]
    french = customer_factory(language="fr")
    order = create(seeded, french)
    pay(seeded, french, order.id)
    run_outbox(seeded)
    sent = emails(seeded, french)
    assert [email.subject for email in sent] == [
        f"Votre bon de commande {order.number}",
        f"Paiement reçu pour la commande {order.number}",
        f"Commande {order.number} finalisée : vos accès",
    ]
    assert "identifiant" in sent[-1].body_text
    created = sent[0]
    assert [attachment.filename for attachment in created.attachments] == [f"{order.number}.html"]
    assert b"Bon de commande" in created.attachments[0].data
    assert "TTC" in created.body_text


def test_a_second_order_can_go_into_the_same_billing_group(
    seeded: Platform, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.orders.errors import BillingGroupNotFound

    first = create(seeded, customer)
    pay(seeded, customer, first.id)
    run_outbox(seeded)
    group_id = load(seeded, first.id).billing_group_id
    assert group_id
    second = create(
        seeded,
        customer,
        Cart(lines=[CartLine("fax-line", 1, area="+331")], billing_group_id=group_id),
    )
    pay(seeded, customer, second.id)
    run_outbox(seeded)
    assert load(seeded, second.id).billing_group_id == group_id
    stranger = customer_factory()
    with pytest.raises(BillingGroupNotFound):
        create(seeded, stranger, Cart(lines=[CartLine("fax-line", 1)], billing_group_id=group_id))
