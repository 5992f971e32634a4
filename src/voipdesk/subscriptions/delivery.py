"""Delivery of a paid order: the subscriptions area provisions what was ordered, on the event.

The orders area writes `orders.ready_for_delivery` {order_id, account_id} when an order may be
delivered (paid, and validated when VoIP needs it); orders never imports subscriptions. This
handler reads the order through `orders.services.order_to_deliver` (plain dataclasses), creates
the billing group, lines, numbers, fax lines and phone loans (`provisioning.provision_delivery`),
then tells orders with `orders.services.mark_delivered`, in the same transaction: a repeated
message finds the order delivered and does nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.subscriptions import provisioning as prov

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

READY_FOR_DELIVERY = "orders.ready_for_delivery"
# Published in the delivery transaction: {billing_group_id, order_id, alias_numbers: [{number,
# for_line}]}; telephony consumes it to give an alias ordered for a line its default redirect.
ALIAS_NUMBERS_DELIVERED = "subscriptions.alias_numbers_delivered"


def delivery_request(order: Any) -> prov.DeliveryRequest:
    """What to provision for an order (`order.lines`: kind, offer_code, quantity, details,
    monthly_price_excl_tax, unit_price_excl_tax), at the prices ordered."""
    sip_lines: list[prov.SipLineRequest] = []
    alias_numbers: list[prov.AliasNumberRequest] = []
    fax_lines: list[prov.FaxLineRequest] = []
    phone_loans: list[prov.PhoneLoanRequest] = []
    alias_pool = False
    options_by_number: dict[str, list[str]] = {}
    option_prices: dict[str, Decimal] = {}  # as ordered, not as the catalogue says later
    for line in order.lines:
        if line.kind == catalogue_rules.KIND_OPTION:
            option_prices[line.offer_code] = line.monthly_price_excl_tax or Decimal("0")
            for number in line.details.get("for_numbers", []):
                options_by_number.setdefault(number, []).append(line.offer_code)
    for line in order.lines:
        details = line.details
        monthly = line.monthly_price_excl_tax or Decimal("0")
        if line.kind == catalogue_rules.KIND_SIP_LINE:
            for number in details["numbers"]:
                codes = options_by_number.get(number, [])
                sip_lines.append(
                    prov.SipLineRequest(
                        offer_code=line.offer_code,
                        number_e164=number,
                        simultaneous_calls=int(details.get("simultaneous_calls") or 1),
                        option_codes=codes,
                        monthly_price_excl_tax=monthly,
                        option_prices={code: option_prices[code] for code in codes},
                    )
                )
        elif line.kind == catalogue_rules.KIND_ALIAS_NUMBER:
            alias_pool = alias_pool or bool(details.get("pool"))
            alias_numbers.extend(
                prov.AliasNumberRequest(
                    number_e164=n,
                    monthly_price_excl_tax=monthly,
                    for_line=details.get("for_line"),
                )
                for n in details["numbers"]
            )
        elif line.kind == catalogue_rules.KIND_FAX_LINE:
            fax_lines.extend(
                prov.FaxLineRequest(number_e164=n, monthly_price_excl_tax=monthly)
                for n in details["numbers"]
            )
        elif line.kind == catalogue_rules.KIND_PHONE:
            targets = details.get("for_numbers") or []
            for index in range(line.quantity):
                phone_loans.append(
                    prov.PhoneLoanRequest(
                        hardware_code=line.offer_code,
                        deposit=line.unit_price_excl_tax,
                        for_line_number=targets[index] if index < len(targets) else None,
                    )
                )
    return prov.DeliveryRequest(
        account_id=order.account_id,
        order_id=order.order_id,
        billing_group_id=order.billing_group_id,
        sip_lines=sip_lines,
        alias_numbers=alias_numbers,
        alias_pool=alias_pool,
        fax_lines=fax_lines,
        phone_loans=phone_loans,
    )


def deliver(platform: Platform, session: Session, order_id: str) -> None:
    """Provisions the order and marks it delivered (idempotent: once per order)."""
    from voipdesk.orders import services as orders

    order = orders.order_to_deliver(session, order_id)  # locked; None unless it is delivering
    if order is None:
        return  # already delivered (a repeated message), or cancelled: nothing to do
    request = delivery_request(order)
    result = prov.provision_delivery(session, platform, request)
    if request.alias_numbers:
        from voipdesk.core.events import publish

        publish(
            session,
            ALIAS_NUMBERS_DELIVERED,
            {
                "billing_group_id": result.billing_group_id,
                "order_id": order_id,
                "alias_numbers": [
                    {"number": alias.number_e164, "for_line": alias.for_line}
                    for alias in request.alias_numbers
                ],
            },
            now=platform.now(),
            key=order_id,
        )
    orders.mark_delivered(
        platform,
        session,
        order_id,
        billing_group_id=result.billing_group_id,
        delivery={
            "billing_group_id": result.billing_group_id,
            "sip_lines": [line.number_e164 for line in request.sip_lines],
            "alias_numbers": [number.number_e164 for number in request.alias_numbers],
            "fax_lines": [fax.number_e164 for fax in request.fax_lines],
            "phones": len(request.phone_loans),
        },
        credentials=[
            {
                "number": credential.number_e164,
                "username": credential.sip_username,
                # The line page where the customer makes the password (shown once, never mailed).
                "path": f"/telephony/{result.billing_group_id}/lines/"
                f"{quote(credential.number_e164)}",
            }
            for credential in result.sip_credentials
        ],
    )
