"""Account closure as the guide says: refused while an order is in progress (here in Validation,
waiting for the VoIP procedure), then while its services are active, each reason with its link."""

from __future__ import annotations

from tests.orders.helpers import create, pay
from tests.validation.conftest import PASSWORD, ApiClient
from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.orders.actions import Cart, CartLine

ONE_LINE = Cart(lines=[CartLine(offer="sip-decouverte", quantity=1, area="+331")])


def test_closure_is_refused_with_an_order_in_validation(
    seeded: Platform, api: ApiClient, customer: Account
) -> None:
    unpaid = create(seeded, customer, ONE_LINE)
    refused = api.post("/me/closure", customer, json={"password": PASSWORD})
    assert refused.status_code == 409
    assert refused.json()["reasons"] == [
        {
            "code": "order-in-progress",
            "message": f"La commande {unpaid.number} attend son paiement : payez-la ou annulez-la.",
            "link": f"/orders/{unpaid.id}",
        }
    ]
    pay(seeded, customer, unpaid.id)
    refused = api.post("/me/closure", customer, json={"password": PASSWORD})
    assert refused.status_code == 409
    [reason] = refused.json()["reasons"]
    assert reason["code"] == "order-in-progress"
    assert "Validation" in reason["message"] and reason["link"] == f"/orders/{unpaid.id}"
    # Nothing was sent and the account still works.
    assert api.get("/me", customer).status_code == 200
    emails = api.get("/me/service-emails", customer).json()["items"]
    assert not any(email["kind"] == "account-closure-confirmation" for email in emails)
