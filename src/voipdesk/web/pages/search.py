"""The customer's search across their numbers, lines and orders (the header's search field)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import render

router = APIRouter()

SECTIONS = {
    "sip_line": "lines",
    "sip_trunk": "lines",
    "alias_number": "numbers",
    "fax_line": "faxes",
}


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: str = "",
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    from voipdesk.orders import actions as orders
    from voipdesk.subscriptions import actions as subscriptions

    text = q.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    services: list[dict[str, object]] = []
    found_orders: list[dict[str, object]] = []
    if text:
        with platform.session() as session:
            national = digits.lstrip("0")
            for service in subscriptions.list_account_services(session, account.id):
                if service.kind not in SECTIONS or not service.number_e164:
                    continue
                if len(national) >= 2 and national in service.number_e164:
                    services.append(
                        {
                            "kind": service.kind,
                            "number": service.number_e164,
                            "state": service.state,
                            "href": f"/telephony/{service.billing_group_id}/"
                            f"{SECTIONS[service.kind]}/{service.number_e164.replace('+', '%2B')}",
                        }
                    )
            rows, _ = orders.list_orders(session, platform, account_id=account.id, limit=200)
            for order in rows:
                if text.lower() in order.number.lower():
                    found_orders.append(
                        {
                            "id": order.id,
                            "number": order.number,
                            "state": order.state,
                            "created_at": order.created_at,
                            "excl_tax": Money(order.total_excl_tax, order.currency),
                            "incl_tax": Money(order.total_incl_tax, order.currency),
                        }
                    )
    return render(
        request,
        "search.html",
        {"q": text, "services": services[:50], "orders": found_orders[:50]},
    )
