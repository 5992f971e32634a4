"""Paying an unpaid invoice, and what happens when a collection fails or is returned.

- `pay_invoice`: the customer pays by card (a saved card or a new one, through the payment
  provider; a card may ask for a confirmation step), by a one-off SEPA direct debit on a saved
  mandate, or by bank transfer (the answer gives the reference to quote; staff record the
  transfer with `record_invoice_transfer`).
- A success marks the invoice paid, reactivates at once the services its dunning suspended, and
  e-mails a receipt. A failure of an automatic collection (renewal card charge or direct debit)
  e-mails the customer a link to pay, and is retried on the schedule of `rules`.
- `record_direct_debit_return`: the bank returned a direct debit (R-transaction): the invoice is
  unpaid again (and dunning resumes from its due date), and the customer is told.
One transaction each (the caller's), the platform's clock, e-mails through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.billing import rules
from voipdesk.billing.errors import (
    DirectDebitNotInThisCurrency,
    InvoiceAlreadyPaid,
    InvoicePaymentInProgress,
    NoDirectDebitMandate,
    NothingDue,
    NothingToReturn,
)
from voipdesk.billing.models import (
    COLLECTION_FAILED,
    COLLECTION_PENDING,
    COLLECTION_SUBMITTED,
    COLLECTION_SUCCEEDED,
    OPEN_INVOICE_PAYMENT_STATES,
    PAYMENT_AWAITING_TRANSFER,
    PAYMENT_CANCELLED,
    PAYMENT_FAILED,
    PAYMENT_PENDING,
    PAYMENT_REQUIRES_CONFIRMATION,
    PAYMENT_RETURNED,
    PAYMENT_SUCCEEDED,
    Collection,
    InvoicePayment,
)
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.db import new_id
from voipdesk.core.money import Money
from voipdesk.invoices.models import (
    INVOICE_CREDITED,
    INVOICE_PAID,
    INVOICE_UNPAID,
    Invoice,
    cents_to_amount,
)
from voipdesk.invoices.services import announce_paid

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform
    from voipdesk.payments.services import CardInput

CARD = catalogue_rules.PAYMENT_CARD
SEPA = catalogue_rules.PAYMENT_SEPA_DEBIT
TRANSFER = catalogue_rules.PAYMENT_BANK_TRANSFER


@dataclass
class InvoicePaymentRequest:
    method: str  # card | sepa_debit | bank_transfer
    payment_method_id: str | None = None  # a saved card or mandate; default: the default one
    card: CardInput | None = None  # a new card, not saved


def invoice_url(platform: Platform, invoice: Invoice) -> str:
    return f"{platform.settings.base_url.rstrip('/')}/invoices/{invoice.id}"


def _lock_invoice(session: Session, account_id: str | None, invoice_id: str) -> Invoice:
    from voipdesk.invoices.errors import InvoiceNotFound

    invoice = session.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None or (account_id is not None and invoice.account_id != account_id):
        raise InvoiceNotFound()
    if invoice.status not in (INVOICE_PAID, INVOICE_UNPAID, INVOICE_CREDITED):
        raise InvoiceNotFound()
    return invoice


def payments_of_invoice(session: Session, invoice_id: str) -> list[InvoicePayment]:
    return list(
        session.scalars(
            select(InvoicePayment)
            .where(InvoicePayment.invoice_id == invoice_id)
            .order_by(InvoicePayment.created_at, InvoicePayment.id)
        )
    )


def collection_of(session: Session, invoice_id: str) -> Collection | None:
    return session.scalar(select(Collection).where(Collection.invoice_id == invoice_id))


def payment_in_flight(session: Session, invoice_id: str) -> bool:
    """A direct debit (or card charge) sent whose result has not come yet."""
    collection = collection_of(session, invoice_id)
    if collection is not None and collection.state == COLLECTION_PENDING:
        return True
    return any(p.state == PAYMENT_PENDING for p in payments_of_invoice(session, invoice_id))


def pay_invoice(
    session: Session,
    platform: Platform,
    account: Account,
    invoice_id: str,
    request: InvoicePaymentRequest,
    *,
    origin: str = "customer",
) -> InvoicePayment:
    """One attempt at paying an unpaid invoice (see the module's doc)."""
    from voipdesk.catalogue.errors import PaymentMethodNotAllowed
    from voipdesk.catalogue.queries import allowed_payment_methods
    from voipdesk.core.errors import InvalidInput

    invoice = _lock_invoice(session, account.id, invoice_id)
    if invoice.status == INVOICE_PAID:
        raise InvoiceAlreadyPaid(number=invoice.number)
    if invoice.status == INVOICE_CREDITED:
        raise NothingDue(number=invoice.number)
    if payment_in_flight(session, invoice.id):
        raise InvoicePaymentInProgress(number=invoice.number)
    if request.method not in catalogue_rules.PAYMENT_METHOD_TYPES:
        raise InvalidInput(fields={"method": "Choose card, sepa_debit or bank_transfer."})
    if request.method not in allowed_payment_methods(session, account.country, account.kind):
        raise PaymentMethodNotAllowed(
            method=request.method,
            country=account.country,
            kind=account.kind,
            fields={"method": "Not offered for this account."},
        )
    if request.method == SEPA and not rules.direct_debit_collects(invoice.currency):
        raise DirectDebitNotInThisCurrency(
            currency=invoice.currency, fields={"method": "Choose card or bank_transfer."}
        )
    _cancel_open_attempts(session, platform, invoice.id)
    payment = InvoicePayment(
        id=new_id(),
        invoice_id=invoice.id,
        account_id=account.id,
        origin=origin,
        method_type=request.method,
        amount_cents=invoice.total_incl_tax_cents,
        state=PAYMENT_PENDING,
        created_at=platform.now(),
    )
    if request.method == TRANSFER:
        payment.state = PAYMENT_AWAITING_TRANSFER
        payment.transfer_reference = rules.transfer_reference(invoice.number)
        session.add(payment)
        session.flush()
        return payment
    token, mandate, iban = _instrument(session, platform, account, request)
    payment.payment_method_id = request.payment_method_id or _default_id(
        session, account.id, request.method, request.card is None
    )
    session.add(payment)
    session.flush()
    _charge(session, platform, invoice, payment, token=token, mandate=mandate, iban=iban)
    return payment


def _default_id(session: Session, account_id: str, method: str, use_default: bool) -> str | None:
    from voipdesk.payments.services import default_payment_method

    if not use_default:
        return None
    default = default_payment_method(session, account_id)
    return default.id if default is not None and default.method_type == method else None


def _instrument(
    session: Session, platform: Platform, account: Account, request: InvoicePaymentRequest
) -> tuple[str | None, str | None, str | None]:
    """(card token, mandate reference, IBAN) of what is charged."""
    from voipdesk.payments.errors import PaymentMethodMissing
    from voipdesk.payments.services import (
        default_payment_method,
        get_payment_method,
        get_provider,
    )

    if request.method == CARD and request.card is not None:
        token = (
            get_provider(platform)
            .tokenize_card(
                session,
                number=request.card.number,
                exp_month=request.card.exp_month,
                exp_year=request.card.exp_year,
                cvc=request.card.cvc,
                today=platform.now(),
            )
            .token
        )
        return token, None, None
    method = (
        get_payment_method(session, account.id, request.payment_method_id)
        if request.payment_method_id
        else default_payment_method(session, account.id)
    )
    if method is None or method.method_type != request.method:
        # Any saved method of that kind will do when the default is of another kind.
        from voipdesk.payments.services import list_payment_methods

        method = next(
            (
                m
                for m in list_payment_methods(session, account.id)
                if m.method_type == request.method
            ),
            None,
        )
        if method is not None:
            request.payment_method_id = method.id
    if request.method == SEPA:
        if method is None or not method.mandate_reference or not method.iban:
            raise NoDirectDebitMandate(fields={"payment_method_id": NoDirectDebitMandate.message})
        return None, method.mandate_reference, method.iban
    if method is None or not method.provider_token:
        raise PaymentMethodMissing(fields={"card": "Give a card, or choose a saved one."})
    return method.provider_token, None, None


def _charge(
    session: Session,
    platform: Platform,
    invoice: Invoice,
    payment: InvoicePayment,
    *,
    token: str | None,
    mandate: str | None,
    iban: str | None,
) -> None:
    from voipdesk.payments.services import get_provider

    provider = get_provider(platform)
    metadata = {"invoice_id": invoice.id, "invoice_payment_id": payment.id}
    description = f"{platform.settings.operator_name} {invoice.number}"
    amount = cents_to_amount(payment.amount_cents)
    if payment.method_type == CARD:
        assert token is not None
        result = provider.charge_card(
            session,
            token=token,
            amount=amount,
            currency=invoice.currency,
            description=description,
            idempotency_key=f"invoice-payment:{payment.id}",
            metadata=metadata,
        )
    else:
        assert mandate is not None and iban is not None
        result = provider.debit_sepa(
            session,
            mandate_reference=mandate,
            iban=iban,
            amount=amount,
            currency=invoice.currency,
            description=description,
            idempotency_key=f"invoice-payment:{payment.id}",
            metadata=metadata,
        )
    payment.provider_reference = result.reference
    payment.confirmation_url = result.confirmation_url
    if result.status == "succeeded":
        settle_invoice_payment(session, platform, payment, succeeded=True)
    elif result.status == "failed":
        settle_invoice_payment(
            session, platform, payment, succeeded=False, failure=result.failure_code
        )
    elif result.status == "requires_confirmation":
        payment.state = PAYMENT_REQUIRES_CONFIRMATION
    else:
        payment.state = PAYMENT_PENDING
    session.flush()


def _cancel_open_attempts(session: Session, platform: Platform, invoice_id: str) -> None:
    """A new attempt replaces one waiting for a confirmation or a transfer."""
    from voipdesk.payments.services import get_provider

    for payment in payments_of_invoice(session, invoice_id):
        if payment.state not in (PAYMENT_REQUIRES_CONFIRMATION, PAYMENT_AWAITING_TRANSFER):
            continue
        if payment.provider_reference:
            get_provider(platform).cancel(session, payment.provider_reference)
        payment.state = PAYMENT_CANCELLED
        payment.settled_at = platform.now()


def settle_invoice_payment(
    session: Session,
    platform: Platform,
    payment: InvoicePayment,
    *,
    succeeded: bool,
    failure: str | None = None,
) -> None:
    """The result of an attempt, applied once. Money for an invoice paid meanwhile by another
    attempt is refunded."""
    from voipdesk.payments.services import get_provider

    if payment.state not in (*OPEN_INVOICE_PAYMENT_STATES,):
        return
    invoice = session.get(Invoice, payment.invoice_id, with_for_update=True)
    assert invoice is not None
    now = platform.now()
    payment.settled_at = now
    if not succeeded:
        payment.state = PAYMENT_FAILED
        payment.failure_code = failure or "declined"
        if payment.origin == "retry":
            _tell_collection_failed(session, platform, invoice, payment.method_type)
        return
    if invoice.status == INVOICE_PAID:
        if payment.provider_reference:
            get_provider(platform).refund(session, payment.provider_reference)
        payment.state = PAYMENT_CANCELLED
        payment.failure_code = "already-paid-refunded"
        return
    payment.state = PAYMENT_SUCCEEDED
    mark_invoice_paid(session, platform, invoice, payment.method_type)


def mark_invoice_paid(
    session: Session,
    platform: Platform,
    invoice: Invoice,
    method_type: str,
    *,
    notify: bool = True,
) -> list[str]:
    """The invoice is paid: the services its dunning suspended work again at once, and the
    customer gets a receipt saying so. Returns the services reactivated."""
    from voipdesk.subscriptions.services import reactivate_after_payment

    invoice.status = INVOICE_PAID
    invoice.paid_at = platform.now()
    announce_paid(session, platform, invoice)
    reactivated: list[str] = []
    if invoice.billing_group_id:
        reactivated = reactivate_after_payment(
            session, platform, invoice.billing_group_id, invoice.number
        )
    if not notify and not reactivated:
        return reactivated
    _email(
        session,
        platform,
        invoice,
        "invoice-paid",
        "billing/invoice_paid",
        {
            "method": catalogue_rules.PAYMENT_METHOD_LABELS.get(method_type, method_type),
            "reactivated": len(reactivated),
        },
    )
    return reactivated


def record_invoice_transfer(
    session: Session, platform: Platform, invoice_id: str, staff_id: str
) -> InvoicePayment:
    """Staff saw the customer's transfer arrive on the operator's account."""
    invoice = _lock_invoice(session, None, invoice_id)
    if invoice.status == INVOICE_PAID:
        raise InvoiceAlreadyPaid(number=invoice.number)
    if invoice.status == INVOICE_CREDITED:
        raise NothingDue(number=invoice.number)
    payment = next(
        (
            p
            for p in payments_of_invoice(session, invoice.id)
            if p.state == PAYMENT_AWAITING_TRANSFER
        ),
        None,
    )
    if payment is None:
        payment = InvoicePayment(
            id=new_id(),
            invoice_id=invoice.id,
            account_id=invoice.account_id,
            origin="staff",
            method_type=TRANSFER,
            amount_cents=invoice.total_incl_tax_cents,
            state=PAYMENT_AWAITING_TRANSFER,
            transfer_reference=rules.transfer_reference(invoice.number),
            created_at=platform.now(),
        )
        session.add(payment)
        session.flush()
    settle_invoice_payment(session, platform, payment, succeeded=True)
    payment.failure_code = None
    session.flush()
    del staff_id  # recorded by the caller's audit (the back-office route logs the staff)
    return payment


# --- automatic collections that fail, and returns ------------------------------------------
def collection_failed(session: Session, platform: Platform, invoice: Invoice, method: str) -> None:
    """The renewal's automatic charge failed: the customer is told, with a link to pay; the
    retry job tries again on schedule; dunning suspends only at its own date."""
    _tell_collection_failed(session, platform, invoice, method)


def _tell_collection_failed(
    session: Session, platform: Platform, invoice: Invoice, method: str
) -> None:
    failures = failed_attempts(session, invoice.id)
    last = platform.today()
    retry = rules.next_retry_on(failures, last)
    _email(
        session,
        platform,
        invoice,
        "invoice-collection-failed",
        "billing/collection_failed",
        {
            "method": catalogue_rules.PAYMENT_METHOD_LABELS.get(method, method),
            "retry_on": retry,
        },
    )


def failed_attempts(session: Session, invoice_id: str) -> int:
    collection = collection_of(session, invoice_id)
    count = 1 if collection is not None and collection.state == COLLECTION_FAILED else 0
    count += sum(
        1
        for p in payments_of_invoice(session, invoice_id)
        if p.origin == "retry" and p.state == PAYMENT_FAILED
    )
    return count


def record_direct_debit_return(
    session: Session,
    platform: Platform,
    invoice_id: str,
    reason_code: str,
    *,
    provider_reference: str | None = None,
) -> Invoice:
    """The bank returned a direct debit (an R-transaction, e.g. AM04 insufficient funds, MD01
    no mandate): the invoice is unpaid again and the customer is asked to pay it."""
    invoice = _lock_invoice(session, None, invoice_id)
    returned = False
    for payment in payments_of_invoice(session, invoice.id):
        if (
            payment.method_type == SEPA
            and payment.state == PAYMENT_SUCCEEDED
            and provider_reference in (None, payment.provider_reference)
        ):
            payment.state = PAYMENT_RETURNED
            payment.failure_code = reason_code
            returned = True
    collection = collection_of(session, invoice.id)
    if (
        not returned
        and collection is not None
        and collection.method_type == SEPA
        and collection.state in (COLLECTION_SUBMITTED, COLLECTION_SUCCEEDED)
    ):
        collection.state = COLLECTION_FAILED
        collection.failure_code = f"returned:{reason_code}"
        collection.settled_at = platform.now()
        returned = True
    if not returned:
        raise NothingToReturn(number=invoice.number)
    invoice.status = INVOICE_UNPAID
    invoice.paid_at = None
    _email(
        session,
        platform,
        invoice,
        "invoice-debit-returned",
        "billing/debit_returned",
        {"reason_code": reason_code},
    )
    return invoice


def handle_provider_event(
    session: Session, platform: Platform, event_type: str, reference: str, data: dict[str, Any]
) -> bool:
    """A provider event about an invoice payment (card confirmed or declined, direct debit
    collected, failed or returned). Returns False when the reference is not an invoice's."""
    payment = session.scalar(
        select(InvoicePayment).where(InvoicePayment.provider_reference == reference)
    )
    if payment is None:
        return False
    if event_type == "payment.succeeded":
        settle_invoice_payment(session, platform, payment, succeeded=True)
    elif event_type == "payment.failed":
        settle_invoice_payment(
            session,
            platform,
            payment,
            succeeded=False,
            failure=str(data.get("failure_code") or "declined"),
        )
    elif event_type == "payment.returned":
        record_direct_debit_return(
            session,
            platform,
            payment.invoice_id,
            str(data.get("reason_code") or "MS02"),
            provider_reference=reference,
        )
    return True


def _email(
    session: Session,
    platform: Platform,
    invoice: Invoice,
    kind: str,
    template: str,
    context: dict[str, Any],
) -> None:
    from voipdesk.accounts.emails import send_service_email
    from voipdesk.accounts.models import Account

    account = session.get(Account, invoice.account_id)
    if account is None or account.closed_at is not None:
        return
    send_service_email(
        session,
        platform,
        account=account,
        kind=kind,
        template=template,
        context={
            "number": invoice.number,
            "amount": Money(invoice.total_incl_tax, invoice.currency),
            "due_on": rules.due_on(invoice.issued_on),
            "url": invoice_url(platform, invoice),
            **context,
        },
    )
