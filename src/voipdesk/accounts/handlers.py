"""Delivery of service e-mails by SMTP (outbox topic `email.send`)."""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from voipdesk.accounts import sms
from voipdesk.accounts.emails import SEND_TOPIC, STATUS_SENT
from voipdesk.accounts.models import LoginAttempt, PasswordReset, ServiceEmail, WebSession
from voipdesk.accounts.sms import SEND_TOPIC as SMS_SEND_TOPIC
from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import Outcome, external_handler
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings

SMTP_TIMEOUT_SECONDS = 30


def message_id(email: ServiceEmail, settings: Settings) -> str:
    """Stable per e-mail: a repeated delivery (at least once) is recognisably the same message."""
    domain = (
        parseaddr(settings.smtp_from)[1].rpartition("@")[2] or urlsplit(settings.base_url).hostname
    )
    return f"<{email.id}@{domain or 'voipdesk.invalid'}>"


def build_message(email: ServiceEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = settings.smtp_from
    message["To"] = email.to_address
    message["Date"] = format_datetime(email.created_at)
    message["Message-ID"] = message_id(email, settings)
    message["Content-Language"] = email.language
    message.set_content(email.body_text)
    message.add_alternative(email.body_html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


def smtp_send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


@external_handler(SEND_TOPIC)
def send_email(platform: Platform, payload: dict[str, Any]) -> Outcome | None:
    """Sends one stored e-mail, with no transaction open while the SMTP server answers. Already
    sent: nothing to do. An SMTP refusal raises, so the outbox retries it later with backoff; the
    e-mail is marked sent in the transaction that marks its message delivered."""
    settings = platform.settings
    if settings.smtp_host is None:
        return None  # no SMTP server: the e-mail stays in the customer space only
    email_id = payload["email_id"]
    with platform.session() as session:
        email = session.scalar(
            select(ServiceEmail)
            .where(ServiceEmail.id == email_id)
            .options(selectinload(ServiceEmail.attachments))
        )
        if email is None or email.status == STATUS_SENT:
            return None
        message = build_message(email, settings)
    smtp_send(settings, message)
    sent_at = platform.now()

    def mark_sent(session: Session) -> None:
        session.execute(
            update(ServiceEmail)
            .where(ServiceEmail.id == email_id)
            .values(status=STATUS_SENT, sent_at=sent_at)
        )

    return mark_sent


# Login attempts only matter inside the throttling window; reset links only until they expire.
ATTEMPTS_KEPT = timedelta(days=1)
RESETS_KEPT = timedelta(days=7)


@periodic("accounts.purge_expired", every=timedelta(hours=1))
def purge_expired(platform: Platform) -> None:
    """Deletes old login attempts, used or expired reset links and ended web sessions."""
    with platform.transaction() as session:
        now = platform.now()
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPTS_KEPT))
        session.execute(delete(PasswordReset).where(PasswordReset.expires_at < now - RESETS_KEPT))
        session.execute(delete(WebSession).where(WebSession.expires_at < now))


@external_handler(SMS_SEND_TOPIC)
def send_sms(platform: Platform, payload: dict[str, Any]) -> Outcome | None:
    """Sends one stored SMS through the configured gateway (a gateway refusal raises: the outbox
    retries later with backoff; a sent SMS is not sent again)."""
    return sms.deliver(platform, payload["sms_id"])
