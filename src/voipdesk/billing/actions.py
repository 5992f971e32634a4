"""Billing actions: card collections, manual-renewal reminders and orders (reading invoices is the
invoices area's, re-exported here for billing's handlers)."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.billing import rules
from voipdesk.billing.models import (
    COLLECTION_FAILED,
    COLLECTION_PENDING,
    COLLECTION_SUCCEEDED,
    Collection,
    ManualRenewal,
)
from voipdesk.core.platform import Platform
from voipdesk.invoices.models import INVOICE_PAID, INVOICE_UNPAID, Invoice, cents_to_amount
from voipdesk.subscriptions import rules as sub_rules
from voipdesk.subscriptions.models import Service
from voipdesk.subscriptions.services import services_changed

log = structlog.get_logger(__name__)


# --------------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------------
def collect_pending_cards(platform: Platform, limit: int = 100) -> int:
    """Charges pending card collections through the payment provider, one transaction each (the
    provider's idempotency key is the collection, so a repeat after a crash charges once)."""
    from voipdesk.payments.errors import PaymentMethodNotFound
    from voipdesk.payments.services import get_payment_method, get_provider

    with platform.session() as session:
        ids = session.scalars(
            select(Collection.id)
            .where(Collection.state == COLLECTION_PENDING, Collection.method_type == "card")
            .order_by(Collection.id)
            .limit(limit)
        ).all()
    handled = 0
    for collection_id in ids:
        with platform.transaction() as session:
            collection = session.get(Collection, collection_id, with_for_update=True)
            if collection is None or collection.state != COLLECTION_PENDING:
                continue
            invoice = session.get(Invoice, collection.invoice_id, with_for_update=True)
            assert invoice is not None
            try:
                method = get_payment_method(
                    session, collection.account_id, collection.payment_method_id
                )
            except PaymentMethodNotFound:  # removed since
                method = None
            if method is None or not method.provider_token:
                settle_collection(
                    session, platform, collection, invoice, succeeded=False, failure="no-card"
                )
                continue
            result = get_provider(platform).charge_card(
                session,
                token=method.provider_token,
                amount=cents_to_amount(collection.amount_cents),
                currency=invoice.currency,
                description=f"{platform.settings.operator_name} {invoice.number}",
                idempotency_key=f"renewal-collection:{collection.id}",
                metadata={"invoice_id": invoice.id, "collection_id": str(collection.id)},
            )
            collection.provider_reference = result.reference
            if result.status in ("succeeded", "failed"):
                settle_collection(
                    session,
                    platform,
                    collection,
                    invoice,
                    succeeded=result.status == "succeeded",
                    failure=result.failure_code,
                )
            else:
                collection.state = "submitted"
            handled += 1
    return handled


def settle_collection(
    session: Session,
    platform: Platform,
    collection: Collection,
    invoice: Invoice,
    *,
    succeeded: bool,
    failure: str | None = None,
) -> None:
    from voipdesk.billing.invoice_payments import collection_failed, mark_invoice_paid

    now = platform.now()
    collection.settled_at = now
    if succeeded:
        collection.state = COLLECTION_SUCCEEDED
        mark_invoice_paid(session, platform, invoice, collection.method_type, notify=False)
        return
    collection.state = COLLECTION_FAILED
    collection.failure_code = failure or "declined"
    invoice.status = INVOICE_UNPAID
    # Not paid: the customer is told at once, with a link to pay; the charge is retried on
    # schedule, and the services are suspended only at the dunning's date (billing.rules).
    collection_failed(session, platform, invoice, collection.method_type)


# --------------------------------------------------------------------------------------------------
# Manual renewal reminders
# --------------------------------------------------------------------------------------------------
def send_manual_renewal_reminders(platform: Platform, limit: int = 1000) -> int:
    """7 days and 1 day before expiry, and on the day: one e-mail each (dedup per service, period
    and reminder)."""
    from voipdesk.accounts.emails import send_service_email
    from voipdesk.accounts.models import Account
    from voipdesk.core.outbox import OutboxMessage
    from voipdesk.subscriptions.services import describe

    today = platform.today()
    expiries = [
        today.fromordinal(today.toordinal() + days) for days in rules.REMINDER_DAYS_BEFORE_EXPIRY
    ]
    sent = 0
    with platform.transaction() as session:
        services = session.scalars(
            select(Service)
            .where(
                Service.renewal_mode == sub_rules.MANUAL,
                Service.state.in_((sub_rules.ACTIVE, sub_rules.TO_RENEW)),
                Service.expiry_on.in_(expiries),
                Service.cancel_at_expiry.is_(False),
            )
            .limit(limit)
        ).all()
        for service in services:
            days = rules.reminder_due(today, service.expiry_on)
            if days is None:
                continue
            key = f"renewal-reminder:{service.id}:{service.expiry_on.isoformat()}:{days}"
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)):
                continue
            account = session.get(Account, service.account_id)
            if account is None:
                continue
            service.state = sub_rules.TO_RENEW
            ensure_manual_renewal_order(session, platform, service)
            send_service_email(
                session,
                platform,
                account=account,
                kind="service-renewal-reminder",
                template="billing/renewal_reminder",
                context={
                    "service": describe(service),
                    "days": days,
                    "expiry": service.expiry_on,
                    "amount": _money(service),
                    "url": f"{platform.settings.base_url.rstrip('/')}/services",
                },
            )
            # A marker in the outbox makes the reminder once-only even if the job runs twice.
            from voipdesk.core.outbox import enqueue

            enqueue(
                session,
                "billing.reminder_sent",
                {"service_id": service.id},
                platform.now(),
                dedup_key=key,
            )
            sent += 1
    return sent


MANUAL_RENEWAL_PAID = "billing.manual_renewal_paid"


def ensure_manual_renewal_order(
    session: Session, platform: Platform, service: Service
) -> ManualRenewal:
    """The purchase order renewing a manual service for the month after its expiry (one per
    service and period: a later reminder finds the one already made)."""
    from datetime import timedelta

    from voipdesk.core.i18n import gettext
    from voipdesk.orders.services import create_custom_order
    from voipdesk.subscriptions.services import describe, monthly_price

    start = service.expiry_on + timedelta(days=1)
    renewal = session.scalar(
        select(ManualRenewal).where(
            ManualRenewal.service_id == service.id, ManualRenewal.period_start == start
        )
    )
    if renewal is not None:
        return renewal
    end = sub_rules.end_of_month(start)
    label = "Renewal of %(service)s from %(start)s to %(end)s"
    values = {"service": describe(service), "start": start.isoformat(), "end": end.isoformat()}
    price = monthly_price(service)
    order = create_custom_order(
        session,
        platform,
        account_id=service.account_id,
        description=gettext("en", label, **values),
        description_fr=gettext("fr", label, **values),
        amount_excl_tax=price,
        monthly_excl_tax=price,
        billing_group_id=service.billing_group_id,
        period=(start, end),
        on_paid=(
            MANUAL_RENEWAL_PAID,
            {"service_id": service.id, "period_start": start.isoformat()},
        ),
    )
    renewal = ManualRenewal(
        service_id=service.id,
        account_id=service.account_id,
        period_start=start,
        order_id=order.order_id,
        created_at=platform.now(),
    )
    session.add(renewal)
    session.flush()
    return renewal


def apply_manual_renewal(
    session: Session, platform: Platform, service_id: str, period_start: date
) -> None:
    """The renewal order is paid: the service runs to the end of that month (idempotent)."""
    from datetime import timedelta

    service = session.get(Service, service_id, with_for_update=True)
    if service is None or service.expiry_on >= period_start:
        return  # gone, or already renewed for that period (a repeated message)
    if service.state not in (sub_rules.ACTIVE, sub_rules.TO_RENEW, sub_rules.SUSPENDED):
        return
    if (
        service.expiry_on != period_start - timedelta(days=1)
        and service.state != sub_rules.SUSPENDED
    ):
        return
    service.expiry_on = sub_rules.end_of_month(period_start)
    service.state = sub_rules.ACTIVE
    service.suspended_at = None
    services_changed(session, platform, [service.id])
    renewal = session.scalar(
        select(ManualRenewal).where(
            ManualRenewal.service_id == service.id, ManualRenewal.period_start == period_start
        )
    )
    if renewal is not None and renewal.paid_at is None:
        renewal.paid_at = platform.now()


def _money(service: Service) -> Any:
    from voipdesk.catalogue.rules import currency_of
    from voipdesk.core.money import Money

    return Money(service.monthly_price_excl_tax, currency_of(service.tax_country))


# --------------------------------------------------------------------------------------------------
# Invoice e-mails
# --------------------------------------------------------------------------------------------------
INVOICE_EMAIL = "billing.invoice_email"
INVOICE_EMAIL_KIND = "invoice"


def send_invoice_email(session: Session, platform: Platform, invoice_id: str) -> bool:
    """The invoice e-mailed to its billing contact in their language, its PDF attached, kept in
    their service e-mails. Called by the outbox message the renewal queued with the invoice
    (one per invoice, by its dedup key), in that message's transaction: once per invoice."""
    from voipdesk.accounts.emails import send_service_email
    from voipdesk.accounts.models import Account
    from voipdesk.core.money import Money
    from voipdesk.invoices.services import invoice_pdf

    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        return False
    account = session.get(Account, invoice.account_id)
    if account is None or not account.email:  # closed since: nobody to write to
        return False
    collection = session.scalar(
        select(Collection.method_type).where(Collection.invoice_id == invoice.id)
    )
    # A direct debit in a file counts the invoice paid already: the e-mail still says it is debited.
    how = collection or ("paid" if invoice.status == INVOICE_PAID else "to_pay")
    pdf = invoice_pdf(session, invoice.id, account.language)
    assert pdf is not None
    period_start = invoice.renewal_period or invoice.issued_on
    send_service_email(
        session,
        platform,
        account=account,
        kind=INVOICE_EMAIL_KIND,
        template="billing/invoice",
        context={
            "number": invoice.number,
            "issued_on": invoice.issued_on,
            "period_start": period_start,
            "period_end": sub_rules.end_of_month(period_start),
            "total": Money(invoice.total_incl_tax, invoice.currency),
            "how": how,
            "url": f"{platform.settings.base_url.rstrip('/')}/invoices",
        },
        attachments=[(f"invoice-{invoice.number}.pdf", "application/pdf", pdf)],
    )
    return True
