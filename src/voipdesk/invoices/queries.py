"""Reading invoices: a customer's invoices (newest first, by cursor), one invoice, the unpaid ones
(what blocks an account's closure)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from voipdesk.core.pagination import cursor_key, encode_cursor
from voipdesk.invoices.errors import InvoiceNotFound
from voipdesk.invoices.models import INVOICE_CREDITED, INVOICE_PAID, INVOICE_UNPAID, Invoice

__all__ = ["VISIBLE", "InvoiceNotFound", "get_invoice", "list_invoices", "unpaid_invoices"]


VISIBLE = (INVOICE_PAID, INVOICE_UNPAID, INVOICE_CREDITED)


def list_invoices(
    session: Session,
    account_id: str,
    limit: int = 50,
    cursor: str | None = None,
    paid: bool | None = None,
) -> tuple[list[Invoice], str | None]:
    """Newest first; `paid` True or False keeps only the paid or the unpaid ones."""
    query = select(Invoice).where(Invoice.account_id == account_id, Invoice.status.in_(VISIBLE))
    if paid is True:
        query = query.where(Invoice.status == INVOICE_PAID)
    elif paid is False:
        query = query.where(Invoice.status != INVOICE_PAID)
    position = cursor_key(cursor, date, str)
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
        encode_cursor(rows[limit - 1].issued_on, rows[limit - 1].number)
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
