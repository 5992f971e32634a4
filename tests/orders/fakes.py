"""Stand-ins for other areas' interfaces, installed only while those areas are not there yet.

When `voipdesk.accounts.emails`, `voipdesk.subscriptions.provisioning` or
`voipdesk.billing.invoicing` exist, the tests use the real ones.
"""

from __future__ import annotations

import importlib
import secrets
import sys
import types
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any


def _missing(module: str) -> bool:
    try:
        importlib.import_module(module)
        return False
    except ImportError:
        return True


def install() -> None:
    if _missing("voipdesk.accounts.emails"):
        sys.modules["voipdesk.accounts.emails"] = _emails_module()
    if _missing("voipdesk.subscriptions.provisioning"):
        package = types.ModuleType("voipdesk.subscriptions")
        package.__path__ = []  # type: ignore[attr-defined]
        sys.modules.setdefault("voipdesk.subscriptions", package)
        sys.modules["voipdesk.subscriptions.provisioning"] = _provisioning_module()
    if _missing("voipdesk.billing.invoicing"):
        package = types.ModuleType("voipdesk.billing")
        package.__path__ = []  # type: ignore[attr-defined]
        sys.modules.setdefault("voipdesk.billing", package)
        sys.modules["voipdesk.billing.invoicing"] = _invoicing_module()


def _emails_module() -> types.ModuleType:
    from jinja2 import Environment, FileSystemLoader

    from voipdesk.accounts.models import EmailAttachment, ServiceEmail
    from voipdesk.core.i18n import translator

    root = Path(__file__).resolve().parents[2] / "src" / "voipdesk"

    def send_service_email(
        session, platform, *, account, kind, template, context, attachments=(), to_address=None
    ):  # type: ignore[no-untyped-def]
        area, name = template.split("/", 1)
        environment = Environment(
            loader=FileSystemLoader(str(root / area / "emails")), autoescape=False
        )
        environment.filters["money"] = lambda value: value.format(account.language)
        environment.filters["date"] = lambda value: str(value)
        loaded = environment.get_template(f"{name}.jinja")
        values = dict(context, _=translator(account.language))
        rendered = {
            block: "".join(loaded.blocks[block](loaded.new_context(values))).strip()
            for block in ("subject", "text", "html")
        }
        email = ServiceEmail(
            account_id=account.id,
            kind=kind,
            language=account.language,
            to_address=to_address or account.email,
            subject=rendered["subject"],
            body_text=rendered["text"],
            body_html=rendered["html"],
            created_at=platform.now(),
            status="stored",
        )
        for filename, content_type, data in attachments:
            email.attachments.append(
                EmailAttachment(filename=filename, content_type=content_type, data=data)
            )
        session.add(email)
        session.flush()
        return email

    module = types.ModuleType("voipdesk.accounts.emails")
    module.send_service_email = send_service_email  # type: ignore[attr-defined]
    return module


def _provisioning_module() -> types.ModuleType:
    @dataclass
    class SipLineRequest:
        offer_code: str
        number_e164: str
        simultaneous_calls: int
        option_codes: list[str]
        monthly_price_excl_tax: Decimal

    @dataclass
    class AliasNumberRequest:
        number_e164: str
        monthly_price_excl_tax: Decimal

    @dataclass
    class FaxLineRequest:
        number_e164: str
        monthly_price_excl_tax: Decimal

    @dataclass
    class PhoneLoanRequest:
        hardware_code: str
        deposit: Decimal
        for_line_number: str | None

    @dataclass
    class DeliveryRequest:
        account_id: str
        order_id: str
        billing_group_id: str | None
        sip_lines: list[Any]
        alias_numbers: list[Any]
        alias_pool: bool
        fax_lines: list[Any]
        phone_loans: list[Any]

    @dataclass
    class SipCredential:
        number_e164: str
        sip_username: str
        sip_password: str

    @dataclass
    class DeliveryResult:
        billing_group_id: str
        sip_credentials: list[Any] = field(default_factory=list)

    delivered: list[Any] = []

    def provision_delivery(session, platform, request):  # type: ignore[no-untyped-def]
        delivered.append(request)
        return DeliveryResult(
            billing_group_id=request.billing_group_id or "bg" + secrets.token_hex(6),
            sip_credentials=[
                SipCredential(
                    line.number_e164, line.number_e164.lstrip("+"), secrets.token_urlsafe(12)
                )
                for line in request.sip_lines
            ],
        )

    module = types.ModuleType("voipdesk.subscriptions.provisioning")
    for item in (
        SipLineRequest,
        AliasNumberRequest,
        FaxLineRequest,
        PhoneLoanRequest,
        DeliveryRequest,
        SipCredential,
        DeliveryResult,
        provision_delivery,
    ):
        setattr(module, item.__name__, item)
    module.delivered = delivered  # type: ignore[attr-defined]
    return module


def _invoicing_module() -> types.ModuleType:
    @dataclass
    class InvoiceLineInput:
        description: str
        quantity: Decimal
        unit_price_excl_tax: Decimal
        tax_components: tuple[Any, ...]
        period_start: date | None
        period_end: date | None
        service_id: str | None

    @dataclass
    class Invoice:
        id: str
        lines: list[Any]
        order_id: str | None

    issued: list[Invoice] = []

    def issue_invoice(
        session,
        platform,
        *,
        account_id,
        lines,
        order_id=None,
        billing_group_id=None,  # type: ignore[no-untyped-def]
        issued_on,
        paid,
    ):
        invoice = Invoice(id=secrets.token_hex(16), lines=list(lines), order_id=order_id)
        issued.append(invoice)
        return invoice

    module = types.ModuleType("voipdesk.billing.invoicing")
    module.InvoiceLineInput = InvoiceLineInput  # type: ignore[attr-defined]
    module.Invoice = Invoice  # type: ignore[attr-defined]
    module.issue_invoice = issue_invoice  # type: ignore[attr-defined]
    module.issued = issued  # type: ignore[attr-defined]
    return module
