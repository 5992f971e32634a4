"""What the dashboard and the staff home show: the customer's next things to do, and the staff's
work queues. Read-only, from the areas' public reads (and their tables where no read exists yet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from voipdesk.core.money import Money, round_cents
from voipdesk.core.platform import Platform


@dataclass
class Todo:
    # order_not_paid, order_validation, order_delivering, invoice_unpaid, procedure,
    # contact_request, hardware_return, portability_failed
    kind: str
    text_values: dict[str, Any]
    href: str
    action: str | None = None  # what the button does, as a code the template words


@dataclass
class Dashboard:
    todos: list[Todo] = field(default_factory=list)
    waiting_order: bool = False
    services: int = 0
    next_renewal: date | None = None
    renewal_excl: Money | None = None
    renewal_incl: Money | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    procedure_state: str | None = None
    validated_on: datetime | None = None
    portabilities: list[dict[str, Any]] = field(default_factory=list)  # ongoing, not failed


def customer_dashboard(platform: Platform, account: Any) -> Dashboard:
    from voipdesk.accounts.actions import email_verified
    from voipdesk.catalogue import rules as catalogue_rules
    from voipdesk.invoices.models import INVOICE_UNPAID, Invoice
    from voipdesk.orders import actions as orders
    from voipdesk.orders import rules as order_rules
    from voipdesk.subscriptions import actions as subscriptions
    from voipdesk.subscriptions import rules as subscription_rules
    from voipdesk.subscriptions.models import Service
    from voipdesk.validation import actions as validation

    board = Dashboard()
    today = platform.today()
    with platform.session() as session:
        fresh = session.get(type(account), account.id)
        if (
            platform.settings.require_verified_email
            and fresh is not None
            and not email_verified(session, fresh)
        ):
            board.todos.append(
                Todo("email_unverified", {"email": account.email}, "/", "email_unverified")
            )
        waiting, _ = orders.list_orders(
            session,
            platform,
            account_id=account.id,
            states=[order_rules.NOT_PAID, order_rules.VALIDATION, order_rules.DELIVERING],
            limit=10,
        )
        for order in waiting:
            values = {
                "number": order.number,
                "amount": Money(order.total_incl_tax, order.currency),
                "expires_at": order.expires_at,
            }
            board.todos.append(
                Todo(f"order_{order.state}", values, f"/orders/{order.id}", order.state)
            )
        board.waiting_order = bool(waiting)
        unpaid = list(
            session.scalars(
                select(Invoice)
                .where(Invoice.account_id == account.id, Invoice.status == INVOICE_UNPAID)
                .order_by(Invoice.issued_on)
            )
        )
        for invoice in unpaid:
            board.todos.append(
                Todo(
                    "invoice_unpaid",
                    {
                        "number": invoice.number,
                        "amount": Money(invoice.total_incl_tax, invoice.currency),
                        "issued_on": invoice.issued_on,
                    },
                    "/invoices?status=unpaid",
                    "invoice",
                )
            )
        procedure = validation.current_procedure(session, account.id)
        validated = validation.validation_of(session, account.id)
        if validated is not None:
            board.validated_on = validated.validated_at
        if procedure is not None:
            board.procedure_state = procedure.status
            if procedure.status == "waiting_for_customer":
                board.todos.append(
                    Todo(
                        "procedure",
                        {"reference": procedure.mandate_reference},
                        "/voip-procedure",
                        "procedure",
                    )
                )
        from voipdesk.subscriptions.models import PhoneLoan

        returns = session.scalars(
            select(PhoneLoan).where(
                PhoneLoan.account_id == account.id,
                PhoneLoan.state == subscription_rules.LOAN_RETURN_OPENED,
            )
        )
        for loan in returns:
            board.todos.append(
                Todo(
                    "hardware_return",
                    {"due_on": loan.return_due_on, "deposit": Money(loan.deposit)},
                    f"/telephony/{loan.billing_group_id}/phones",
                    "hardware_return",
                )
            )
        from voipdesk.telephony.portability import queries as portabilities
        from voipdesk.telephony.portability import rules as portability_rules

        for request in portabilities.account_ongoing_portabilities(session, account.id):
            href = f"/telephony/{request.billing_group_id}/portabilities/{request.id}"
            if request.step == portability_rules.FAILED:
                reason = portability_rules.FAILURE_REASONS.get(request.failure_reason or "")
                board.todos.append(
                    Todo(
                        "portability_failed",
                        {"reference": request.reference, "reason": reason.label if reason else ""},
                        href,
                        "portability_failed",
                    )
                )
            else:
                board.portabilities.append(
                    {
                        "reference": request.reference,
                        "numbers": request.numbers,
                        "step": portability_rules.STEP_LABELS[request.step],  # a message id
                        "href": href,
                    }
                )
        for _request in subscriptions.incoming_contact_requests(session, account.id):
            board.todos.append(Todo("contact_request", {}, "/telephony", "contact_request"))
        live = list(
            session.scalars(
                select(Service).where(
                    Service.account_id == account.id,
                    Service.state.in_(subscription_rules.LIVE_STATES),
                )
            )
        )
        board.services = len(live)
        renewing = [s for s in live if not s.cancel_at_expiry]
        if renewing:
            board.next_renewal = today.replace(day=1) + relativedelta(months=1)
            excl = sum((Decimal(s.monthly_price_excl_tax) for s in renewing), Decimal("0"))
            try:
                rate = catalogue_rules.total_tax_rate(account.country, board.next_renewal)
            except Exception:  # a country without a tax table shows excl. tax only
                rate = Decimal("0")
            currency = catalogue_rules.currency_of(account.country)
            board.renewal_excl = Money(excl, currency)
            board.renewal_incl = Money(excl + round_cents(excl * rate), currency)
        by_id = {s.id: s for s in live}
        for group in subscriptions.list_groups(session, account.id):
            for change in subscriptions.pending_changes(session, group.id):
                service = by_id.get(change.service_id) if change.service_id else None
                board.changes.append(
                    {
                        "kind": change.kind,
                        "effective_on": change.effective_on,
                        "number": service.number_e164 if service else None,
                        "group_id": group.id,
                        "group": group.name,
                    }
                )
        board.changes.sort(key=lambda item: item["effective_on"])
    return board


@dataclass
class Queue:
    code: str
    href: str
    count: int
    oldest: datetime | date | None


def staff_queues(platform: Platform) -> list[Queue]:
    from voipdesk.invoices.models import INVOICE_UNPAID, Invoice
    from voipdesk.orders import rules as order_rules
    from voipdesk.orders.models import PurchaseOrder
    from voipdesk.subscriptions import rules as subscription_rules
    from voipdesk.subscriptions.models import PhoneLoan
    from voipdesk.telephony.portability import rules as portability_rules
    from voipdesk.telephony.portability.models import Portability
    from voipdesk.validation import rules as validation_rules
    from voipdesk.validation.models import VoipProcedure

    queues: list[Queue] = []
    with platform.session() as session:

        def queue(code: str, href: str, model: Any, column: Any, *where: Any) -> None:
            count, oldest = session.execute(
                select(func.count(), func.min(column)).select_from(model).where(*where)
            ).one()
            queues.append(Queue(code, href, count or 0, oldest))

        queue(
            "procedures_to_review",
            "/backoffice/procedures?status=doing",
            VoipProcedure,
            VoipProcedure.created_at,
            VoipProcedure.status == validation_rules.DOING,
        )
        queue(
            "procedures_waiting",
            "/backoffice/procedures?status=waiting_for_customer",
            VoipProcedure,
            VoipProcedure.created_at,
            VoipProcedure.status == validation_rules.WAITING_FOR_CUSTOMER,
        )
        queue(
            "orders_validation",
            "/backoffice/orders?state=validation",
            PurchaseOrder,
            PurchaseOrder.created_at,
            PurchaseOrder.state == order_rules.VALIDATION,
        )
        queue(
            "orders_not_paid",
            "/backoffice/orders?state=not_paid",
            PurchaseOrder,
            PurchaseOrder.created_at,
            PurchaseOrder.state == order_rules.NOT_PAID,
            PurchaseOrder.expires_at > platform.now(),
        )
        queue(
            "orders_delivering",
            "/backoffice/orders?state=delivering",
            PurchaseOrder,
            PurchaseOrder.created_at,
            PurchaseOrder.state == order_rules.DELIVERING,
        )
        queue(
            "invoices_unpaid",
            "/backoffice/invoices",
            Invoice,
            Invoice.issued_on,
            Invoice.status == INVOICE_UNPAID,
        )
        queue("hardware_returns", "/backoffice/phone-returns", PhoneLoan,
              PhoneLoan.return_opened_on,
              PhoneLoan.state == subscription_rules.LOAN_RETURN_OPENED)  # fmt: skip
        queue("portabilities", "/backoffice/portabilities", Portability, Portability.created_at,
              Portability.step.in_(portability_rules.ONGOING_STEPS))  # fmt: skip
    return queues


def age_in_days(oldest: datetime | date | None, now: datetime) -> int | None:
    if oldest is None:
        return None
    day = oldest.date() if isinstance(oldest, datetime) else oldest
    return (now.date() - day).days
