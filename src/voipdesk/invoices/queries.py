"""Reading invoices: a customer's invoices (newest first, by cursor), one invoice, the unpaid ones
(what blocks an account's closure)."""

from __future__ import annotations

import base64
import json
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from voipdesk.core.pagination import InvalidCursor
from voipdesk.invoices.errors import InvoiceNotFound
from voipdesk.invoices.models import INVOICE_CREDITED, INVOICE_PAID, INVOICE_UNPAID, Invoice

__all__ = ["VISIBLE", "InvoiceNotFound", "get_invoice", "list_invoices", "unpaid_invoices"]


def _encode_cursor(issued_on: date, number: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([issued_on.isoformat(), number]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[date, str] | None:
    try:
        issued, number = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return date.fromisoformat(issued), str(number)
    except Exception:
        return None


VISIBLE = (INVOICE_PAID, INVOICE_UNPAID, INVOICE_CREDITED)


def list_invoices(
    session: Session, account_id: str, limit: int = 50, cursor: str | None = None
) -> tuple[list[Invoice], str | None]:
    query = select(Invoice).where(Invoice.account_id == account_id, Invoice.status.in_(VISIBLE))
    position = _decode_cursor(cursor) if cursor else None
    if cursor and position is None:
        raise InvalidCursor()
    if position is not None:
        issued, number = position
        query = query.where(
            or_(
                Invoice.issued_on < issued,
                and_(Invoice.issued_on == issued, Invoice.number < number),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(Invoice.issued_on.desc(), Invoice.number.desc()).limit(limit + 1)
        )
    )
    next_cursor = (
        _encode_cursor(rows[limit - 1].issued_on, rows[limit - 1].number)
        if len(rows) > limit
        else None
    )
    return rows[:limit], next_cursor


def get_invoice(session: Session, account_id: str, invoice_id: str) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.account_id != account_id or invoice.status not in VISIBLE:
        raise InvoiceNotFound()
    return invoice


def unpaid_invoices(session: Session, account_id: str) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.account_id == account_id, Invoice.status == INVOICE_UNPAID)
            .order_by(Invoice.number)
        )
    )
