"""The jobs that chase unpaid invoices, run by the workers with the platform's clock:

- `run_dunning`: for each unpaid invoice past its due date, the steps of `rules.DUNNING_STEPS`
  (reminders, the suspension notice, the suspension of the billing group's services with the
  invoice as its reason), each once: a step taken is marked in the outbox by a dedup key.
- `retry_failed_collections`: a failed automatic card charge or direct debit is tried again
  on `rules.RETRY_DAYS_AFTER_FAILURE`, with the account's default method of that kind.
- `fall_back_to_manual_renewal`: a service on automatic renewal whose account has no default
  card or direct-debit method switches to manual renewal a week before it expires (so it gets
  the manual renewal's reminders and purchase order instead of an invoice nobody collects).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.billing import rules
from voipdesk.billing.invoice_payments import (
    InvoicePaymentRequest,
    _email,
    collection_of,
    failed_attempts,
    pay_invoice,
    payment_in_flight,
    payments_of_invoice,
)
from voipdesk.billing.models import COLLECTION_FAILED, PAYMENT_FAILED, Collection
from voipdesk.core.events import publish
from voipdesk.core.platform import Platform
from voipdesk.invoices.models import INVOICE_UNPAID, Invoice

log = structlog.get_logger(__name__)

DUNNING_MARK = "billing.dunning_step"
CHARGEABLE = ("card", "sepa_debit")


def _mark_key(invoice_id: str, day: int) -> str:
    return f"dunning:{invoice_id}:{day}"


def _done_days(session: Session, invoice_id: str) -> frozenset[int]:
    from voipdesk.core.outbox import OutboxMessage

    keys = session.scalars(
        select(OutboxMessage.dedup_key).where(
            OutboxMessage.dedup_key.in_([_mark_key(invoice_id, s.day) for s in rules.DUNNING_STEPS])
        )
    ).all()
    return frozenset(int(str(key).rsplit(":", 1)[1]) for key in keys)


def _unpaid_due(session: Session, today: date, limit: int) -> list[str]:
    latest_issue = today - timedelta(days=rules.PAYMENT_TERM_DAYS)
    return list(
        session.scalars(
            select(Invoice.id)
            .where(
                Invoice.status == INVOICE_UNPAID,
                Invoice.total_incl_tax_cents > 0,
                Invoice.issued_on <= latest_issue,
            )
            .order_by(Invoice.issued_on, Invoice.number)
            .limit(limit)
        )
    )


def run_dunning(platform: Platform, limit: int = 1000) -> int:
    """Takes today's dunning steps; returns how many invoices had one. One transaction per
    invoice, so a crash loses nothing and a re-run repeats nothing."""
    from voipdesk.core.outbox import enqueue
    from voipdesk.subscriptions.services import suspend_for_unpaid_invoice

    today = platform.today()
    with platform.session() as session:
        ids = _unpaid_due(session, today, limit)
    acted = 0
    for invoice_id in ids:
        with platform.transaction() as session:
            invoice = session.get(Invoice, invoice_id, with_for_update=True)
            if invoice is None or invoice.status != INVOICE_UNPAID:
                continue
            if payment_in_flight(session, invoice.id):
                continue  # the result of a direct debit comes first
            due = rules.due_on(invoice.issued_on)
            steps = rules.dunning_steps_due(
                rules.days_late(due, today), _done_days(session, invoice.id)
            )
            if not steps:
                continue
            for step in steps:
                enqueue(
                    session,
                    DUNNING_MARK,
                    {"invoice_id": invoice.id, "day": step.day, "action": step.action},
                    platform.now(),
                    dedup_key=_mark_key(invoice.id, step.day),
                )
            step = steps[-1]
            suspended: list[str] = []
            if step.action == rules.SUSPENSION and invoice.billing_group_id:
                suspended = suspend_for_unpaid_invoice(
                    session, platform, invoice.billing_group_id, invoice.number
                )
                _announce_suspended(session, platform, invoice, suspended)
            _email(
                session,
                platform,
                invoice,
                f"invoice-{step.action.replace('_', '-')}",
                "billing/invoice_dunning",
                {
                    "action": step.action,
                    "days_late": rules.days_late(due, today),
                    "suspension_on": rules.suspension_date(due),
                    "suspended": len(suspended),
                },
            )
            log.info("billing.dunning", invoice=invoice.number, step=step.action, day=step.day)
            acted += 1
    return acted


def _last_failure_on(session: Session, platform: Platform, invoice_id: str) -> date | None:
    moments: list[datetime] = []
    collection = collection_of(session, invoice_id)
    if collection is not None and collection.state == COLLECTION_FAILED and collection.settled_at:
        moments.append(collection.settled_at)
    moments += [
        p.settled_at
        for p in payments_of_invoice(session, invoice_id)
        if p.origin == "retry" and p.state == PAYMENT_FAILED and p.settled_at is not None
    ]
    if not moments:
        return None
    return max(moments).astimezone(ZoneInfo(platform.settings.timezone)).date()


def retry_failed_collections(platform: Platform, limit: int = 500) -> int:
    """Tries again the automatic collections that failed, on schedule; returns how many."""
    from voipdesk.accounts.models import Account
    from voipdesk.payments.services import default_payment_method

    today = platform.today()
    with platform.session() as session:
        ids = list(
            session.scalars(
                select(Invoice.id)
                .join(Collection, Collection.invoice_id == Invoice.id)
                .where(Invoice.status == INVOICE_UNPAID)
                .order_by(Invoice.issued_on)
                .limit(limit)
            )
        )
    tried = 0
    for invoice_id in ids:
        with platform.transaction() as session:
            invoice = session.get(Invoice, invoice_id, with_for_update=True)
            if invoice is None or invoice.status != INVOICE_UNPAID:
                continue
            if payment_in_flight(session, invoice.id):
                continue
            last = _last_failure_on(session, platform, invoice.id)
            failures = failed_attempts(session, invoice.id)
            if last is None or not rules.retry_due(failures, last, today):
                continue
            account = session.get(Account, invoice.account_id)
            method = default_payment_method(session, invoice.account_id)
            if (
                account is None
                or method is None
                or method.method_type not in ("card", "sepa_debit")
            ):
                continue
            try:
                pay_invoice(
                    session,
                    platform,
                    account,
                    invoice.id,
                    InvoicePaymentRequest(method=method.method_type, payment_method_id=method.id),
                    origin="retry",
                )
            except Exception:
                log.warning("billing.retry_refused", invoice=invoice.number, exc_info=True)
                continue
            tried += 1
    return tried


FALLBACK_DAYS_BEFORE_EXPIRY = 7


def fall_back_to_manual_renewal(platform: Platform, limit: int = 1000) -> int:
    """Automatic renewal needs a default card or direct-debit method: without one, the service
    switches to manual renewal (recorded, and the customer is told how to switch back)."""
    from voipdesk.accounts.emails import send_service_email
    from voipdesk.accounts.models import Account
    from voipdesk.payments.services import default_payment_method
    from voipdesk.subscriptions import rules as sub_rules
    from voipdesk.subscriptions.models import Service
    from voipdesk.subscriptions.services import describe, switch_to_manual_renewal

    horizon = platform.today() + timedelta(days=FALLBACK_DAYS_BEFORE_EXPIRY)
    switched = 0
    with platform.transaction() as session:
        services = list(
            session.scalars(
                select(Service)
                .where(
                    Service.renewal_mode == sub_rules.AUTOMATIC,
                    Service.state == sub_rules.ACTIVE,
                    Service.expiry_on <= horizon,
                    Service.cancel_at_expiry.is_(False),
                    Service.parent_service_id.is_(None),
                )
                .limit(limit)
            )
        )
        methods: dict[str, bool] = {}
        for service in services:
            if service.account_id not in methods:
                method = default_payment_method(session, service.account_id)
                methods[service.account_id] = method is not None and method.method_type in (
                    "card",
                    "sepa_debit",
                )
            if methods[service.account_id]:
                continue
            switch_to_manual_renewal(
                session, platform, service, "renewal manual: no default payment method"
            )
            account = session.get(Account, service.account_id)
            if account is not None:
                send_service_email(
                    session,
                    platform,
                    account=account,
                    kind="renewal-switched-to-manual",
                    template="billing/switched_to_manual",
                    context={
                        "service": describe(service),
                        "expiry": service.expiry_on,
                        "url": f"{platform.settings.base_url.rstrip('/')}/payment-methods",
                    },
                )
            switched += 1
    return switched


SERVICE_SUSPENDED = "billing.service_suspended"


def _announce_suspended(
    session: Session, platform: Platform, invoice: Invoice, service_ids: list[str]
) -> None:
    """`billing.service_suspended`, once per service and invoice (operators' systems listen)."""
    for service_id in service_ids:
        publish(
            session,
            SERVICE_SUSPENDED,
            {
                "service_id": service_id,
                "account_id": invoice.account_id,
                "billing_group_id": invoice.billing_group_id,
                "invoice_id": invoice.id,
                "reason": "invoice_unpaid",
            },
            now=platform.now(),
            key=f"{service_id}:{invoice.id}",
        )
