"""The procedure's PDF and the e-mail that sends it (at once, or through the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.clock import as_utc
from voipdesk.core.i18n import translator
from voipdesk.core.outbox import enqueue
from voipdesk.core.platform import Platform
from voipdesk.validation import rules
from voipdesk.validation.actions.procedures import (
    SEND_TOPIC,
    _record,
    destination_for,
    missing_documents,
    orders_waiting,
)
from voipdesk.validation.models import (
    VoipProcedure,
)


# =================================================================================================
# The PDF and the e-mail
# =================================================================================================
def procedure_pdf(session: Session, platform: Platform, procedure: VoipProcedure) -> bytes:
    from voipdesk.validation.pdf import MandateData, render_procedure_pdf

    account = session.get(Account, procedure.account_id)
    assert account is not None
    settings = platform.settings
    return render_procedure_pdf(
        MandateData(
            language=account.language,
            operator_name=settings.operator_name,
            operator_postal_address=settings.operator_postal_address,
            creditor_identifier=settings.operator_sepa_creditor_id,
            mandate_reference=procedure.mandate_reference,
            customer_handle=account.handle,
            customer_name=account.display_name,
            customer_kind=procedure.customer_kind,
            country=procedure.country,
            holder_name=procedure.holder_name,
            holder_address=procedure.holder_address,
            iban=procedure.iban,
            bic=procedure.bic,
            created_at=as_utc(procedure.created_at),
            destination=destination_for(platform, procedure.country),
        )
    )


def pdf_filename(procedure: VoipProcedure) -> str:
    return f"procedure-voip-{procedure.mandate_reference}.pdf"


def _email_context(
    session: Session, platform: Platform, procedure: VoipProcedure, account: Account
) -> dict[str, Any]:
    settings = platform.settings
    _ = translator(account.language)
    destination = destination_for(platform, procedure.country)
    return {
        "operator": settings.operator_name,
        "account": account,
        "procedure": procedure,
        "reference": procedure.mandate_reference,
        "documents": [
            _(document.text, operator=settings.operator_name)
            for document in rules.required_documents(procedure.customer_kind, procedure.country)
        ],
        "missing": [
            _(document.text, operator=settings.operator_name)
            for document in missing_documents(procedure)
        ],
        "destination": destination,
        "by_post": destination.channel == rules.BY_POST,
        "procedure_url": f"{settings.base_url.rstrip('/')}/voip-procedure",
        "waiting_orders": len(orders_waiting(session, account.id)),
    }


def send_procedure(
    session: Session, platform: Platform, procedure: VoipProcedure, actor: str
) -> None:
    """E-mails the PDF to the billing contact (listed in service e-mails); todo -> waiting."""
    from voipdesk.accounts.emails import send_service_email

    account = session.get(Account, procedure.account_id)
    assert account is not None
    send_service_email(
        session,
        platform,
        account=account,
        kind="validation-procedure",
        template="validation/procedure_requested",
        context=_email_context(session, platform, procedure, account),
        attachments=[
            (
                pdf_filename(procedure),
                "application/pdf",
                procedure_pdf(session, platform, procedure),
            )
        ],
    )
    now = platform.now()
    procedure.sent_at = now
    target = rules.WAITING_FOR_CUSTOMER if procedure.status == rules.TODO else None
    _record(session, procedure, now, actor, "sent", to_status=target, note=account.email)


def deliver_pending_procedure(platform: Platform, session: Session, procedure_id: str) -> None:
    """Outbox delivery for procedures opened where no platform was at hand (order payment)."""
    procedure = session.scalar(
        select(VoipProcedure).where(VoipProcedure.id == procedure_id).with_for_update()
    )
    if procedure is None or procedure.status != rules.TODO or procedure.sent_at is not None:
        return  # already sent, or cancelled meanwhile
    send_procedure(session, platform, procedure, "system")


def enqueue_sending(session: Session, procedure: VoipProcedure, now: datetime) -> None:
    enqueue(
        session,
        SEND_TOPIC,
        {"procedure_id": procedure.id},
        now,
        dedup_key=f"validation-send:{procedure.id}",
    )
