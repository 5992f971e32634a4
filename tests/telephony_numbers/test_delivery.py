"""An alias number ordered for a line redirects to that line ("another number on my line")."""

from __future__ import annotations

from tests.orders.conftest import make_account, mark_validated
from tests.orders.helpers import create, load, pay, run_outbox
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.orders import rules as order_rules
from voipdesk.orders.actions import Cart, CartLine
from voipdesk.telephony.aliases import queries


def test_an_alias_ordered_for_a_line_redirects_to_it_and_others_stay_unconfigured(platform):
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    customer = make_account(platform)
    mark_validated(platform, customer)
    from voipdesk.catalogue.queries import free_numbers

    with platform.session() as session:
        line, for_line, other = (
            n.number_e164 for n in free_numbers(session, "FR", platform.now(), "+334", limit=3)
        )
    cart = Cart(
        lines=[
            CartLine("sip-entreprise", 1, numbers=[line]),
            CartLine("alias-number", 1, numbers=[for_line], for_line=line),
            CartLine("alias-number", 1, numbers=[other]),
        ]
    )
    order = create(platform, customer, cart)
    pay(platform, customer, order.id)
    run_outbox(platform)
    assert load(platform, order.id).state == order_rules.DELIVERED
    with platform.session() as session:
        ordered_for_line = queries.compiled_configuration(session, for_line)
        assert queries.compiled_configuration(session, other) is None
    assert ordered_for_line is not None
    assert ordered_for_line.compiled["redirect"] == {"number": line, "present_alias": False}
    assert ordered_for_line.version == 1
    run_outbox(platform)  # nothing more happens on a second pass
    with platform.session() as session:
        assert queries.compiled_configuration(session, for_line).version == 1
