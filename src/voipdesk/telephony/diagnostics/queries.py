"""A line's diagnostics: the facts read from the line, its routing record, the registrations the
switch reported and its Plug & Phone, turned into findings (`rules.diagnose`) and presented in
the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.catalogue.queries import national_format
from voipdesk.core.i18n import format_datetime, gettext
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony.diagnostics import rules
from voipdesk.telephony.models import Registration
from voipdesk.telephony.queries import routing_record_for

SHOWN_REGISTRATIONS = 10


@dataclass(frozen=True)
class Diagnostics:
    number: str
    registered: bool
    findings: list[rules.Finding]
    registrations: list[rules.Registration]
    suspension_invoice: str | None
    checked_at: datetime


def registrations_of(
    session: Session, number: str, limit: int = SHOWN_REGISTRATIONS
) -> list[rules.Registration]:
    rows = session.scalars(
        select(Registration)
        .where(Registration.number == number)
        .order_by(Registration.registered_at.desc(), Registration.id.desc())
        .limit(limit)
    )
    return [
        rules.Registration(r.registered_at, r.expires_at, r.ip, r.port, r.transport, r.user_agent)
        for r in rows
    ]


def diagnose_line(
    session: Session, platform: Platform, account_id: str, group_id: str, number: str
) -> Diagnostics:
    from voipdesk.telephony.phones.actions import line_phone

    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    routing = routing_record_for(session, facts.number or number)
    registrations = registrations_of(session, facts.number or number)
    attached, _free = line_phone(session, account_id, group_id, facts.number or number)
    now = platform.now()
    findings = rules.diagnose(
        rules.Facts(
            number=facts.number or number,
            state=facts.state,
            record=routing.record if routing is not None else None,
            registrations=registrations,
            now=now,
            phone_model=attached.model if attached is not None else None,
            phone_provisioned_at=attached.last_provisioned_at if attached is not None else None,
        )
    )
    return Diagnostics(
        number=facts.number or number,
        registered=any(f.code == "registered" for f in findings),
        findings=findings,
        registrations=registrations,
        suspension_invoice=subscriptions.suspension_reason(session, facts.service_id)
        if facts.state == "suspended"
        else None,
        checked_at=now,
    )


def present(finding: rules.Finding, language: str, timezone: str) -> dict[str, Any]:
    """A finding in the reader's words: its sentence, what to do, its values formatted."""
    values: dict[str, Any] = {}
    for name, value in finding.values.items():
        if isinstance(value, datetime):
            values[name] = format_datetime(value, language, timezone)
        elif name == "condition":
            values[name] = gettext(language, rules.CONDITION_WORDS.get(value, value))
        elif name == "destination":
            values[name] = (
                gettext(language, "the voicemail")
                if value == "voicemail"
                else (national_format(value) if str(value).startswith("+") else value)
            )
        else:
            values[name] = value
    return {
        "code": finding.code,
        "severity": finding.severity,
        "text": gettext(language, finding.text, **values),
        "what_to_do": gettext(language, finding.what_to_do) if finding.what_to_do else None,
    }
