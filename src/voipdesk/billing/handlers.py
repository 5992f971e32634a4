"""Periodic jobs and outbox handlers of the billing area (all idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.orm import Session

from voipdesk.accounts.closure import Blocker, closure_blocker
from voipdesk.billing import actions, dunning, invoice_payments
from voipdesk.billing.errors import RenewalAlreadyRunning
from voipdesk.billing.models import RenewalRun
from voipdesk.billing.renewal import run_renewal
from voipdesk.core.i18n import N_
from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import handler
from voipdesk.invoices.services import register_payment_source, unpaid_invoices
from voipdesk.payments.services import register_provider_event_listener

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

log = structlog.get_logger(__name__)


@periodic("billing.renewal", every=timedelta(hours=1))
def monthly_renewal(platform: Platform) -> None:
    """On the 1st (or the first hour a worker runs after it): the month's renewal, once; a run
    interrupted by a crash is finished by the next one."""
    today = platform.today()
    period = today.replace(day=1)
    with platform.session() as session:
        run = session.get(RenewalRun, period)
        if run is not None and run.finished_at is not None:
            return
    try:
        run_renewal(platform, today)
    except RenewalAlreadyRunning:  # an operator's `voipdesk renew` (or another worker) runs it
        log.info("renewal.already_running", period=period.isoformat())


@periodic("billing.collect_cards", every=timedelta(minutes=5))
def collect_cards(platform: Platform) -> None:
    actions.collect_pending_cards(platform)


@periodic("billing.renewal_reminders", every=timedelta(hours=6))
def renewal_reminders(platform: Platform) -> None:
    actions.send_manual_renewal_reminders(platform)


@handler("billing.reminder_sent")
def reminder_sent(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """Only a once-only marker: the reminder e-mail itself went through the service e-mails."""


@handler(actions.INVOICE_EMAIL)
def invoice_email(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    actions.send_invoice_email(session, platform, payload["invoice_id"])


@handler(actions.MANUAL_RENEWAL_PAID)
def manual_renewal_paid(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    from datetime import date

    actions.apply_manual_renewal(
        session, platform, payload["service_id"], date.fromisoformat(payload["period_start"])
    )


@closure_blocker("billing")
def unpaid_invoices_block_closure(session: Session, account: Any) -> list[Blocker]:
    return [
        Blocker(
            "unpaid-invoice",
            N_("Invoice %(number)s is not paid."),
            {"number": invoice.number},
            link=f"/invoices/{invoice.id}",
        )
        for invoice in unpaid_invoices(session, account.id)
    ]


# Provider events about invoice payments (card confirmed, direct debit collected or returned).
register_provider_event_listener(invoice_payments.handle_provider_event)


@periodic("billing.dunning", every=timedelta(hours=1))
def dunning_job(platform: Platform) -> None:
    """Reminders, suspension notice and suspension of unpaid invoices, on the rules' days."""
    dunning.run_dunning(platform)


@periodic("billing.retry_collections", every=timedelta(hours=1))
def retry_collections(platform: Platform) -> None:
    dunning.retry_failed_collections(platform)


@periodic("billing.manual_renewal_fallback", every=timedelta(hours=6))
def manual_renewal_fallback(platform: Platform) -> None:
    dunning.fall_back_to_manual_renewal(platform)


@handler(dunning.DUNNING_MARK)
def dunning_step_taken(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """Only a once-only marker: the step's e-mail went through the service e-mails."""


@register_payment_source
def renewal_invoice_paid_by(session: Session, invoice: Any) -> str | None:
    """How a renewal invoice was paid (the invoice PDF says it)."""
    from voipdesk.billing.models import (
        COLLECTION_SUBMITTED,
        COLLECTION_SUCCEEDED,
        PAYMENT_SUCCEEDED,
    )

    for payment in invoice_payments.payments_of_invoice(session, invoice.id):
        if payment.state == PAYMENT_SUCCEEDED:
            return payment.method_type
    collection = invoice_payments.collection_of(session, invoice.id)
    if collection is not None and collection.state in (COLLECTION_SUCCEEDED, COLLECTION_SUBMITTED):
        return collection.method_type
    return None
