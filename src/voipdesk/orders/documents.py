"""The purchase order as a printable HTML page (API, customer space, e-mail attachment), and the
values every order e-mail and page shows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from voipdesk.catalogue.queries import national_format
from voipdesk.core.i18n import format_date, format_datetime, translator
from voipdesk.core.money import Money
from voipdesk.orders import rules

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform
    from voipdesk.orders.models import PurchaseOrder

TEMPLATES = Path(__file__).resolve().parent / "templates"
_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def percent(rate: Decimal | str) -> str:
    value = (Decimal(str(rate)) * 100).normalize()
    return f"{value:f}".rstrip("0").rstrip(".") if "." in f"{value:f}" else f"{value:f}"


def payment_method_label(method_type: str, language: str) -> str:
    _ = translator(language)
    return {
        "card": _("Card"),
        "sepa_debit": _("SEPA direct debit"),
        "bank_transfer": _("Bank transfer"),
    }.get(method_type, method_type)


def bank_transfer_instructions(platform: Platform, order: PurchaseOrder) -> dict[str, str]:
    settings = platform.settings
    return {
        "beneficiary": settings.operator_name,
        "iban": settings.operator_iban,
        "bic": settings.operator_bic,
        "reference": order.number,
        "amount": f"{order.total_incl_tax:.2f}",
        "currency": order.currency,
    }


def order_context(
    session: Session, platform: Platform, order: PurchaseOrder, language: str
) -> dict[str, Any]:
    """Everything a page or an e-mail shows about an order, in `language`."""
    _ = translator(language)
    currency = order.currency

    def money(amount: Decimal) -> Money:
        return Money(amount, currency)

    lines = []
    for line in order.lines:
        numbers = line.details.get("numbers") or line.details.get("for_numbers") or []
        lines.append(
            {
                "description": line.description(language),
                "offer_code": line.offer_code,
                "kind": line.kind,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price_excl_tax),
                "monthly_price": money(line.monthly_price_excl_tax)
                if line.monthly_price_excl_tax is not None
                else None,
                "amount": money(line.amount_excl_tax),
                "period_start": format_date(line.period_start, language)
                if line.period_start
                else None,
                "period_end": format_date(line.period_end, language) if line.period_end else None,
                "numbers": [national_format(number) for number in numbers],
                "pool": bool(line.details.get("pool")),
            }
        )
    taxes = [
        {
            "label": _(item["label"]),
            "rate": percent(item["rate"]),
            "base": money(Decimal(item["base"])),
            "amount": money(Decimal(item["amount"])),
        }
        for item in order.tax_breakdown
    ]
    base_url = platform.settings.base_url.rstrip("/")
    return {
        "operator_name": platform.settings.operator_name,
        "operator_address": platform.settings.operator_postal_address,
        "operator_vat_number": platform.settings.operator_vat_number,
        "order": order,
        "number": order.number,
        "state": order.state,
        "state_label": _(rules.STATE_LABELS[order.state]),
        "created": format_date(
            _local(order.created_at, platform.settings.timezone).date(), language
        ),
        "expires": format_datetime(order.expires_at, language, platform.settings.timezone),
        "billing_contact": order.billing_contact,
        "lines": lines,
        "subtotal": money(order.subtotal_excl_tax),
        "discount": money(order.discount_excl_tax),
        "promotion_code": order.promotion_code,
        "total_excl_tax": money(order.total_excl_tax),
        "total_tax": money(order.total_tax),
        "total_incl_tax": money(order.total_incl_tax),
        "taxes": taxes,
        "allowed_payment_methods": [
            payment_method_label(m, language) for m in order.allowed_payment_methods
        ],
        "bank_transfer": bank_transfer_instructions(platform, order),
        "order_url": f"{base_url}/orders/{order.id}",
        "language": language,
    }


def render_purchase_order(
    session: Session, platform: Platform, order: PurchaseOrder, language: str
) -> str:
    template = _environment.get_template("purchase_order.html")
    context = order_context(session, platform, order, language)
    return template.render(
        _=translator(language), money=lambda value: value.format(language), **context
    )
