"""Reading invoices: a customer's invoices (newest first, by cursor), one invoice, the unpaid ones
(what blocks an account's closure)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from voipdesk.core.pagination import cursor_key, encode_cursor
from voipdesk.invoices.errors import InvoiceNotFound
from voipdesk.invoices.models import INVOICE_CREDITED, INVOICE_PAID, INVOICE_UNPAID, Invoice

__all__ = ["VISIBLE", "InvoiceNotFound", "get_invoice", "list_invoices", "unpaid_invoices"]


VISIBLE = (INVOICE_PAID, INVOICE_UNPAID, INVOICE_CREDITED)


# The sorts of the invoices list: key -> (column, cursor type); "-key" is descending.
INVOICE_SORTS: dict[str, tuple[Any, type]] = {
    "date": (Invoice.issued_on, date),
    "amount": (Invoice.total_incl_tax_cents, int),
}
DEFAULT_INVOICE_SORT = "-date"


def list_invoices(
    session: Session,
    account_id: str,
    limit: int = 50,
    cursor: str | None = None,
    paid: bool | None = None,
    sort: str | None = None,
) -> tuple[list[Invoice], str | None]:
    """Newest first unless `sort` says otherwise ("date", "amount", "-" for descending), by
    pages (keyset on the sorted column and the number); `paid` True or False keeps only the
    paid or the unpaid ones. An unknown sort is the default one."""
    wanted = sort if sort and sort.lstrip("-") in INVOICE_SORTS else DEFAULT_INVOICE_SORT
    column, kind = INVOICE_SORTS[wanted.lstrip("-")]
    descending = wanted.startswith("-")
    query = select(Invoice).where(Invoice.account_id == account_id, Invoice.status.in_(VISIBLE))
    if paid is True:
        query = query.where(Invoice.status == INVOICE_PAID)
    elif paid is False:
        query = query.where(Invoice.status != INVOICE_PAID)
    position = cursor_key(cursor, kind, str)
    if position is not None:
        value, number = position
        if descending:
            query = query.where(or_(column < value, and_(column == value, Invoice.number < number)))
        else:
            query = query.where(or_(column > value, and_(column == value, Invoice.number > number)))
    order = (column.desc(), Invoice.number.desc()) if descending else (column, Invoice.number)
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = (
        encode_cursor(getattr(last, column.key), last.number) if last is not None else None
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
