"""Service e-mails kept for the customer: the list (newest first), one e-mail, its attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, true
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


def list_service_emails(
    platform: Platform,
    account_id: str,
    limit: int = 50,
    cursor: str | None = None,
    subject: str | None = None,
) -> Page[ServiceEmail]:
    """Newest first, optionally only those whose subject contains `subject`; attachments come
    with their names and types (not their content)."""
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
    position = cursor_key(cursor, datetime, str)
    if position is not None:
        created_at, email_id = position
        query = query.where(
            or_(
                ServiceEmail.created_at < created_at,
                (ServiceEmail.created_at == created_at) & (ServiceEmail.id < email_id),
            )
        )
    with platform.session() as session:
        rows = list(
            session.scalars(
                query.order_by(ServiceEmail.created_at.desc(), ServiceEmail.id.desc()).limit(
                    limit + 1
                )
            )
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
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
