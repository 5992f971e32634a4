"""An increase of simultaneous calls is a purchase order; paying it adds the calls."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.outbox import drain
from voipdesk.payments.provider import TEST_CARD_SUCCEEDS
from voipdesk.subscriptions import rules

CARD = {"number": TEST_CARD_SUCCEEDS, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def test_increase_answers_an_order_whose_payment_adds_the_calls(client):
    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[("sip-entreprise", 1)])
    group, number = result.billing_group_id, result.sip_credentials[0].number_e164
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}", "Accept-Language": "en"}
    url = f"/api/v1/telephony/{group}/lines/{quote(number)}/simultaneous-calls"

    refused = client.put(url, json={"simultaneous_calls": 3}, headers=headers)
    assert refused.status_code == 422, refused.text  # the telephony terms must be accepted

    answer = client.put(
        url, json={"simultaneous_calls": 3, "accept_telephony_terms": True}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    # 2 extra calls at 1.00 a month, for 2 to 31 March (30 of 31 days).
    today = platform.today()
    expected = rules.prorated_amount(Decimal("2.00"), today, rules.end_of_month(today))
    assert expected == Decimal("1.94")
    assert answer.json()["prorated_excl_tax"] == {"amount": "1.94", "currency": "EUR"}
    order_id = answer.json()["purchase_order_id"]
    order = client.get(f"/api/v1/orders/{order_id}", headers=headers).json()
    assert order["state"] == "not_paid"
    assert order["totals"]["excl_tax"]["amount"] == "1.94"
    assert order["totals"]["incl_tax"]["amount"] == "2.33"  # French VAT 20 %
    # Nothing changes before the payment.
    current = client.get(url, headers=headers).json()
    assert current["simultaneous_calls"] == 1

    paid = client.post(f"/api/v1/orders/{order_id}/payments", json={"card": CARD}, headers=headers)
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "succeeded"
    drain(platform)
    assert client.get(url, headers=headers).json()["simultaneous_calls"] == 3
    line = client.get(f"/api/v1/telephony/{group}/lines/{quote(number)}", headers=headers).json()
    assert line["simultaneous_calls"] == 3
    order = client.get(f"/api/v1/orders/{order_id}", headers=headers).json()
    assert order["state"] == "delivered"


def test_the_page_says_a_purchase_order_was_made_and_shows_it(client):
    import html

    from tests.accounts.factories import PASSWORD
    from tests.web.conftest import csrf_from, login

    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    account = make_account(platform, language="fr")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    group, number = result.billing_group_id, result.sip_credentials[0].number_e164
    assert login(client, account.email, PASSWORD).status_code == 303
    page = client.get(f"/telephony/{group}/lines/{quote(number)}")
    url = f"/telephony/{group}/lines/{quote(number)}/simultaneous-calls"
    more = client.post(
        url,
        data={"csrf_token": csrf_from(page.text), "calls": "4", "accept": "true"},
        follow_redirects=False,
    )
    assert more.status_code == 303
    target = more.headers["location"]
    assert target.startswith("/orders/")
    # French typography: a narrow no-break space before ":" (read as a plain space here).
    shown = html.unescape(client.get(target).text).replace("\u202f", " ")
    assert "Un bon de commande" in shown and "TTC a été créé : payez-le pour ajouter" in shown
    assert "2,33\u00a0€" in shown or "2,33 €" in shown  # 2 calls, 30 of 31 days, VAT 20 %
    fewer = client.post(
        url, data={"csrf_token": csrf_from(page.text), "calls": "1"}, follow_redirects=False
    )
    assert fewer.status_code == 303
    shown = html.unescape(client.get(fewer.headers["location"]).text)
    assert "1 appel(s) simultané(s) à partir du 1 avril 2026" in shown
