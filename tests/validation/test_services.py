"""The validation area's public room for other areas: plain ids and booleans in and out."""

from __future__ import annotations

from collections.abc import Callable

from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules, services


def test_needs_validation_asks_for_voip_of_an_unvalidated_account_only(
    seeded: Platform, customer_factory: Callable[..., Account]
) -> None:
    customer = customer_factory(country="BE")
    with seeded.transaction() as session:
        assert services.needs_validation(session, ["sip_line", "phone"], customer.id)
        assert not services.needs_validation(session, ["phone"], customer.id)
        services.mark_validated(session, seeded, customer.id)
        assert services.is_validated(session, customer.id)
        assert not services.needs_validation(session, ["sip_line"], customer.id)


def test_holding_two_orders_opens_one_procedure_naming_both_once(
    seeded: Platform, customer_factory: Callable[..., Account]
) -> None:
    customer = customer_factory(country="BE")
    now = seeded.now()
    with seeded.transaction() as session:
        first = services.hold_order_for_validation(session, customer.id, "order-1", now)
        again = services.hold_order_for_validation(session, customer.id, "order-1", now)
        other = services.hold_order_for_validation(session, customer.id, "order-2", now)
        assert first == again == other
        procedure = actions.open_procedure_of(session, customer.id)
        assert procedure is not None and procedure.reason == rules.REASON_FIRST_ORDER
        assert procedure.context["order_ids"] == ["order-1", "order-2"]


def test_waiting_orders_come_from_the_registered_areas(seeded: Platform, customer: Account) -> None:
    def waiting(session: object, account_id: str) -> list[str]:
        return ["held-order"] if account_id == customer.id else []

    services.register_waiting_orders(waiting)
    try:
        with seeded.session() as session:
            assert "held-order" in actions.orders_waiting(session, customer.id)
    finally:
        from voipdesk.validation.actions import procedures

        procedures._WAITING_ORDERS.pop(f"{waiting.__module__}.{waiting.__qualname__}")
