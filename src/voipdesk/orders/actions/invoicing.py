"""The invoice of a paid order: its lines and discounts, issued through the invoices area."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.orders.actions.cart import order_totals, tax_components_of
from voipdesk.orders.actions.ordering import _lock_order
from voipdesk.orders.models import PurchaseOrder

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


def invoice_lines_of(order: PurchaseOrder, language: str) -> list[dict[str, Any]]:
    """The invoice lines of an order: its lines, then one discount line per tax group."""
    lines: list[dict[str, Any]] = []
    for line in order.lines:
        lines.append(
            {
                "description": line.description(language),
                "quantity": Decimal(line.quantity),
                "unit_price_excl_tax": line.unit_price_excl_tax,
                "tax_components": tax_components_of(line),
                "period_start": line.period_start,
                "period_end": line.period_end,
                "service_id": None,
            }
        )
    for group in order_totals(order).groups:
        if group.discount_excl_tax:
            label = "Remise" if language == "fr" else "Discount"
            lines.append(
                {
                    "description": f"{label} {order.promotion_code or ''}".strip(),
                    "quantity": Decimal(1),
                    "unit_price_excl_tax": -group.discount_excl_tax,
                    "tax_components": group.components,
                    "period_start": None,
                    "period_end": None,
                    "service_id": None,
                }
            )
    return lines


def issue_order_invoice(platform: Platform, session: Session, order_id: str) -> None:
    from voipdesk.accounts.models import Account
    from voipdesk.invoices.services import InvoiceLineInput, issue_invoice

    order = _lock_order(session, order_id)
    if order.invoice_id is not None or order.paid_at is None:
        return
    account = session.get(Account, order.account_id)
    language = account.language if account is not None else "fr"
    invoice = issue_invoice(
        session,
        platform,
        account_id=order.account_id,
        lines=[InvoiceLineInput(**line) for line in invoice_lines_of(order, language)],
        order_id=order.id,
        billing_group_id=order.billing_group_id,
        issued_on=platform.today(),
        paid=True,
        order_reference=order.number,
        currency=order.currency,
    )
    order.invoice_id = invoice.id
