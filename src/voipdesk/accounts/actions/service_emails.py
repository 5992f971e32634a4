"""Service e-mails kept for the customer: the list (newest first, or by subject), one e-mail, its
attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import selectinload

from voipdesk.accounts.actions.common import (
    Page,
    _limit,
)
from voipdesk.accounts.models import (
    EmailAttachment,
    ServiceEmail,
)
from voipdesk.core.errors import NotFound
from voipdesk.core.pagination import cursor_key, encode_cursor
from voipdesk.core.platform import Platform

# The sorts of the e-mails list: key -> (column, cursor type); "-key" is descending.
EMAIL_SORTS: dict[str, tuple[Any, type]] = {
    "date": (ServiceEmail.created_at, datetime),
    "subject": (ServiceEmail.subject, str),
}
DEFAULT_EMAIL_SORT = "-date"


def list_service_emails(
    platform: Platform,
    account_id: str,
    limit: int = 50,
    cursor: str | None = None,
    subject: str | None = None,
    sort: str | None = None,
) -> Page[ServiceEmail]:
    """Newest first unless `sort` says otherwise ("date", "subject", "-" for descending; an
    unknown sort is the default), by pages (keyset on the sorted column and the id), optionally
    only those whose subject contains `subject`; attachments come with their names and types
    (not their content)."""
    wanted = sort if sort and sort.lstrip("-") in EMAIL_SORTS else DEFAULT_EMAIL_SORT
    column, kind = EMAIL_SORTS[wanted.lstrip("-")]
    descending = wanted.startswith("-")
    limit = _limit(limit)
    query = (
        select(ServiceEmail)
        .where(ServiceEmail.account_id == account_id)
        .where(
            ServiceEmail.subject.contains(subject.strip(), autoescape=True)
            if subject and subject.strip()
            else true()
        )
        .options(
            selectinload(ServiceEmail.attachments).load_only(
                EmailAttachment.id, EmailAttachment.filename, EmailAttachment.content_type
            )
        )
    )
    position = cursor_key(cursor, kind, str)
    if position is not None:
        value, email_id = position
        if descending:
            query = query.where(
                or_(column < value, and_(column == value, ServiceEmail.id < email_id))
            )
        else:
            query = query.where(
                or_(column > value, and_(column == value, ServiceEmail.id > email_id))
            )
    order = (column.desc(), ServiceEmail.id.desc()) if descending else (column, ServiceEmail.id)
    with platform.session() as session:
        rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(getattr(rows[-1], column.key), rows[-1].id) if more and rows else None
    )
    return Page(rows, next_cursor)


def get_service_email(platform: Platform, account_id: str, email_id: str) -> ServiceEmail:
    """One e-mail with its attachments; another customer's answers 404 like a missing one."""
    with platform.session() as session:
        email = session.scalar(
            select(ServiceEmail)
            .where(ServiceEmail.id == email_id, ServiceEmail.account_id == account_id)
            .options(selectinload(ServiceEmail.attachments))
        )
        if email is None:
            raise NotFound()
        return email


def get_email_attachment(
    platform: Platform, account_id: str, email_id: str, number: int
) -> EmailAttachment:
    """The `number`-th attachment (from 1) of one of the customer's e-mails."""
    email = get_service_email(platform, account_id, email_id)
    if not 1 <= number <= len(email.attachments):
        raise NotFound()
    return email.attachments[number - 1]
