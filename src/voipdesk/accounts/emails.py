"""Service e-mails: rendered in the recipient's language, kept for the customer space, sent by SMTP.

A template `"<area>/<name>"` is the file `src/voipdesk/<area>/emails/<name>.jinja`; it defines the
blocks `subject`, `text` and `html`. The html block is rendered with autoescaping, the others as
plain text. The e-mail is stored in the same transaction as the change that causes it, and its
delivery is an outbox message, so a rolled-back change sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, TemplateNotFound
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account, EmailAttachment, ServiceEmail
from voipdesk.core.i18n import format_date, format_datetime, translator
from voipdesk.core.money import Money
from voipdesk.core.outbox import enqueue
from voipdesk.core.platform import Platform

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SEND_TOPIC = "email.send"

STATUS_STORED = "stored"  # no SMTP server configured: shown in the customer space only
STATUS_QUEUED = "queued"
STATUS_SENT = "sent"

Attachment = tuple[str, str, bytes]


class AreaEmailLoader(BaseLoader):
    """Loads `"area/name"` from the area package's `emails/name.jinja`."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        area, _, name = template.partition("/")
        if not area.isidentifier() or not name or ".." in name or name.startswith("/"):
            raise TemplateNotFound(template)
        path = PACKAGE_ROOT / area / "emails" / f"{name}.jinja"
        if not path.is_file():
            raise TemplateNotFound(template)
        source = path.read_text(encoding="utf-8")
        modified = path.stat().st_mtime
        return source, str(path), lambda: path.stat().st_mtime == modified


@lru_cache(maxsize=16)
def _environment(html: bool, language: str, timezone: str) -> Environment:
    # One environment per language: the `money` and `date` filters format for that language.
    environment = Environment(loader=AreaEmailLoader(), autoescape=html)
    environment.filters.update(_filters(language, timezone))
    return environment


def _filters(language: str, timezone: str) -> dict[str, Callable[..., str]]:
    def money(value: Money) -> str:
        return value.format(language)

    def date_filter(value: date | datetime) -> str:
        if isinstance(value, datetime):
            return format_datetime(value, language, timezone)
        return format_date(value, language)

    return {"money": money, "date": date_filter}


def render_email(
    template: str, context: Mapping[str, Any], language: str, timezone: str = "Europe/Paris"
) -> tuple[str, str, str]:
    """Renders (subject, text, html) of a template in one language."""
    parts: dict[str, str] = {}
    for block, html in (("subject", False), ("text", False), ("html", True)):
        values = dict(context)
        values.setdefault("_", translator(language))
        values.setdefault("language", language)
        loaded = _environment(html, language, timezone).get_template(template)
        if block not in loaded.blocks:
            raise ValueError(f"e-mail template {template} has no {block!r} block")
        parts[block] = "".join(loaded.blocks[block](loaded.new_context(values))).strip()
    # A subject is one line, whatever the template's layout.
    subject = " ".join(parts["subject"].split())
    return subject, parts["text"] + "\n", parts["html"]


def send_service_email(
    session: Session,
    platform: Platform,
    *,
    account: Account,
    kind: str,
    template: str,
    context: Mapping[str, Any],
    attachments: Iterable[Attachment] = (),
    to_address: str | None = None,
) -> ServiceEmail:
    """Stores a service e-mail for `account` and queues its delivery (when SMTP is configured)."""
    language = account.language
    values = {
        "account": account,
        "operator": platform.settings.operator_name,
        "base_url": platform.settings.base_url.rstrip("/"),
        **context,
    }
    subject, text, html = render_email(template, values, language, platform.settings.timezone)
    smtp_configured = platform.settings.smtp_host is not None
    email = ServiceEmail(
        account_id=account.id,
        kind=kind,
        language=language,
        to_address=to_address or account.email,
        subject=subject[:300],
        body_text=text,
        body_html=html,
        created_at=platform.now(),
        status=STATUS_QUEUED if smtp_configured else STATUS_STORED,
    )
    for filename, content_type, data in attachments:
        email.attachments.append(
            EmailAttachment(filename=filename, content_type=content_type, data=bytes(data))
        )
    session.add(email)
    session.flush()
    if smtp_configured:
        enqueue(
            session,
            SEND_TOPIC,
            {"email_id": email.id},
            platform.now(),
            dedup_key=f"email.send:{email.id}",
            ordering_key=f"email:{account.id}",  # one customer's e-mails arrive in order
        )
    return email
