"""Customer-space pages for orders and payment methods, and the staff's orders by state.

They call the same actions as the API (`voipdesk.orders.actions`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.catalogue.queries import national_format
from voipdesk.core.errors import DomainError, InvalidInput, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, format_datetime, gettext
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.orders import actions, rules
from voipdesk.orders.documents import order_context, payment_method_label, render_purchase_order
from voipdesk.orders.models import PurchaseOrder
from voipdesk.payments.provider import get_sandbox
from voipdesk.web.auth import require_account, require_staff
from voipdesk.web.rendering import redirect, render

router = APIRouter()

PAYMENT_STATUS_LABELS = {
    "pending": N_("Being processed"),
    "requires_confirmation": N_("Waiting for your confirmation"),
    "awaiting_transfer": N_("Waiting for the transfer"),
    "succeeded": N_("Paid"),
    "failed": N_("Declined"),
    "cancelled": N_("Cancelled"),
    "refunded": N_("Refunded"),
}


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _summary(order: Any, language: str) -> dict[str, Any]:
    from voipdesk.core.money import Money

    return {
        "id": order.id,
        "number": order.number,
        "created": format_datetime(order.created_at, language),
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "state": order.state,
        "state_label": gettext(language, rules.STATE_LABELS[order.state]),
        "incl_tax": Money(order.total_incl_tax, order.currency),
        "excl_tax": Money(order.total_excl_tax, order.currency),
        "printable": order.state in rules.PRINTABLE_STATES,
    }


@router.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request,
    state: str = "",
    cursor: str | None = None,
    sort: str = "",
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    states = [state] if state in rules.LISTED_STATES else None
    with platform.session() as session:
        orders, next_cursor = actions.list_orders(
            session,
            platform,
            account_id=account.id,
            states=states,
            limit=20,
            cursor=cursor,
            sort=sort or None,
        )
        rows = [_summary(order, language) for order in orders]
    options = [(code, gettext(language, rules.STATE_LABELS[code])) for code in rules.LISTED_STATES]
    return render(
        request,
        "orders/list.html",
        {"orders": rows, "next_cursor": next_cursor, "state_options": options, "sort": sort},
    )


def _order_page_context(
    request: Request,
    platform: Platform,
    account: Account,
    order_id: str,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> dict[str, Any]:
    language = request_language(request)
    with platform.session() as session:
        order = actions.get_order(session, account.id, order_id)
        context = order_context(session, platform, order, language)
        steps = actions.follow_up_of(session, order)
        methods = [
            method
            for method in actions.list_payment_methods(session, account.id)
            if method.method_type in order.allowed_payment_methods
        ]
        payments = actions.payments_of(session, order.id)
    context.update(
        {
            "summary": _summary(order, language),
            "steps": [
                {
                    "code": step.code,
                    "label": gettext(language, step.label),
                    "status": step.status,
                    "at": step.at,
                    "action": gettext(language, step.action_needed) if step.action_needed else None,
                }
                for step in steps
            ],
            "methods": methods,
            "can_pay": order.state == rules.NOT_PAID,
            "card_allowed": "card" in order.allowed_payment_methods,
            "transfer_allowed": "bank_transfer" in order.allowed_payment_methods,
            "payments": [
                {
                    "method": payment_method_label(p.method_type, language),
                    "status": gettext(language, PAYMENT_STATUS_LABELS.get(p.status, p.status)),
                    "amount": p.amount,
                    "created": format_datetime(p.created_at, language),
                    "created_at": p.created_at,
                    "status_code": p.status,
                    "confirmation_url": p.confirmation_url
                    if p.status == "requires_confirmation"
                    else None,
                }
                for p in payments
            ],
            "awaiting_transfer": any(p.status == actions.AWAITING_TRANSFER for p in payments),
            "error": error,
            "errors": errors or {},
            "form": form or {},
            "delivery_numbers": [
                national_format(n) for n in ((order.delivery or {}).get("sip_lines") or [])
            ],
        }
    )
    return context


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    order_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return render(
        request, "orders/order.html", _order_page_context(request, platform, account, order_id)
    )


@router.get("/orders/{order_id}/purchase-order", response_class=HTMLResponse)
def purchase_order_page(
    order_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    from voipdesk.orders.errors import OrderNotPrintable

    with platform.session() as session:
        order = actions.get_order(session, account.id, order_id)
        if order.state not in rules.PRINTABLE_STATES:
            raise OrderNotPrintable()
        return HTMLResponse(
            render_purchase_order(session, platform, order, request_language(request))
        )


@router.post("/orders/{order_id}/pay")
def pay_page(
    order_id: str,
    request: Request,
    choice: str = Form(...),  # a payment method id, "new-card" or "bank-transfer"
    card_number: str = Form(""),
    card_exp: str = Form(""),  # MM/YY or MM/YYYY
    card_cvc: str = Form(""),
    save_card: bool = Form(False),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    try:
        if choice == "new-card":
            card = _parse_card(card_number, card_exp, card_cvc)
            payment_request = actions.PaymentRequest(card=card, save_card=save_card)
        elif choice == "bank-transfer":
            payment_request = actions.PaymentRequest(method="bank_transfer")
        else:
            payment_request = actions.PaymentRequest(payment_method_id=choice)
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            payment = actions.pay_order(session, platform, owner, order_id, payment_request)
            confirmation = (
                payment.confirmation_url if payment.status == "requires_confirmation" else None
            )
            failed = payment.status == "failed"
            paid_order = session.get(PurchaseOrder, order_id)
            order_state = paid_order.state if paid_order is not None else ""
            amount = Money(payment.amount, payment.currency)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        language = request_language(request)
        context = _order_page_context(
            request,
            platform,
            account,
            order_id,
            error=error.detail(language),
            errors=_card_field_errors(error, language),
            form={"card_number": card_number, "card_exp": card_exp},
        )
        return render(request, "orders/order.html", context, status=error.status)
    if confirmation:
        return _see(confirmation.replace(platform.settings.base_url.rstrip("/"), ""))
    if failed:
        return _see(f"/orders/{order_id}?declined=1")
    return redirect(
        request,
        f"/orders/{order_id}",
        _paid_message(request_language(request), payment.status, order_state, amount),
    )


def _paid_message(language: str, status: str, order_state: str, amount: Money) -> str | None:
    """What the payment did, said once on the order's page (the order's next step with it)."""
    if status != "succeeded":
        return None  # a transfer awaited: the page itself says how to pay it
    paid = gettext(language, "Payment of %(amount)s received.", amount=amount.format(language))
    then = {
        rules.VALIDATION: N_(
            "Your order now waits for the validation of your account for VoIP: send your "
            "procedure and its documents."
        ),
        rules.DELIVERING: N_("Your order is being delivered: we e-mail you the access details."),
        rules.DELIVERED: N_("Your order is delivered: the access details are in your e-mails."),
    }.get(order_state)
    return paid + (" " + gettext(language, then) if then else "")


# The card's fields as the actions name them -> the form's inputs.
_CARD_FIELDS = {
    "number": "card_number",
    "card.number": "card_number",
    "card_number": "card_number",
    "exp_month": "card_exp",
    "exp_year": "card_exp",
    "card.exp_month": "card_exp",
    "card.exp_year": "card_exp",
    "card_exp": "card_exp",
    "cvc": "card_cvc",
    "card.cvc": "card_cvc",
    "card_cvc": "card_cvc",
    "iban": "iban",
    "bic": "bic",
    "holder_name": "holder_name",
    "holder_address": "holder_address",
    "accept_mandate": "accept_mandate",
}


def _card_field_errors(error: DomainError, language: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.field_errors(language):
        name = _CARD_FIELDS.get(item["field"], item["field"])
        errors.setdefault(name, item["message"])
    return errors


def _parse_card(number: str, expiry: str, cvc: str) -> actions.CardInput:
    try:
        month_text, year_text = expiry.replace(" ", "").split("/", 1)
        month, year = int(month_text), int(year_text)
    except ValueError:
        raise InvalidInput(fields={"card_exp": "Give the expiry as MM/YY."}) from None
    if year < 100:
        year += 2000
    return actions.CardInput(number=number, exp_month=month, exp_year=year, cvc=cvc.strip())


@router.post("/orders/{order_id}/cancel")
def cancel_page(
    order_id: str,
    request: Request,
    confirmed: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    if confirmed != "yes":  # a binding action: first say what it does
        with platform.session() as session:
            order = actions.get_order(session, account.id, order_id)
            number = order.number
        return render(
            request,
            "confirm.html",
            {
                "title": gettext(language, "Cancel order %(number)s?", number=number),
                "consequence": gettext(
                    language,
                    "Order %(number)s will be cancelled for good: its reserved numbers are "
                    "released and it can no longer be paid. To order again, start a new order.",
                    number=number,
                ),
                "button": gettext(language, "Cancel order %(number)s", number=number),
                "action": f"/orders/{order_id}/cancel",
                "fields": {},
                "back": f"/orders/{order_id}",
            },
        )
    with platform.transaction() as session:
        actions.cancel_order(session, platform, account, order_id)
        number = actions.get_order(session, account.id, order_id).number
    return redirect(
        request,
        f"/orders/{order_id}",
        gettext(language, "Order %(number)s is cancelled.", number=number),
    )


# --- the sandbox provider's confirmation page (3-D Secure) ---------------------------------------
@router.get("/sandbox-payments/{reference}", response_class=HTMLResponse)
def sandbox_page(
    reference: str, request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    from voipdesk.payments.models import SandboxCharge

    get_sandbox(platform)  # the page exists only while the sandbox is the configured provider
    with platform.session() as session:
        charge = session.get(SandboxCharge, reference)
        if charge is None:
            raise NotFound()
    from voipdesk.core.money import Money

    return render(
        request,
        "orders/sandbox_confirm.html",
        {"charge": charge, "amount": Money(charge.amount, charge.currency)},
    )


@router.post("/sandbox-payments/{reference}")
def sandbox_answer(
    reference: str, approve: str = Form(...), platform: Platform = Depends(get_platform)
) -> Response:
    with platform.transaction() as session:
        charge = get_sandbox(platform).confirm(session, reference, approve == "yes")
        if charge is None:
            raise NotFound()
        order_id = (charge.metadata_ or {}).get("order_id")
        invoice_id = (charge.metadata_ or {}).get("invoice_id")
    if invoice_id:
        return _see(f"/invoices/{invoice_id}")
    return _see(f"/orders/{order_id}" if order_id else "/orders")


# --- payment methods -----------------------------------------------------------------------------
@router.get("/payment-methods", response_class=HTMLResponse)
def payment_methods_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _payment_methods(request, account, platform)


def _payment_methods(
    request: Request,
    account: Account,
    platform: Platform,
    error: DomainError | None = None,
    failed_form: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    from voipdesk.catalogue.queries import allowed_payment_methods

    message = None
    errors: dict[str, str] = {}
    if error is not None:
        language = request_language(request)
        message = error.detail(language)
        errors = _card_field_errors(error, language)
    with platform.session() as session:
        methods = actions.list_payment_methods(session, account.id)
        allowed = allowed_payment_methods(session, account.country, account.kind)
    return render(
        request,
        "orders/payment_methods.html",
        {
            "methods": methods,
            "allowed": allowed,
            "error": message,
            "errors": errors,
            "failed_form": failed_form,
            "form": form or {},
        },
        status=error.status if error is not None else 200,
    )


@router.post("/payment-methods")
def add_payment_method_page(
    request: Request,
    method_type: str = Form(...),
    card_number: str = Form(""),
    card_exp: str = Form(""),
    card_cvc: str = Form(""),
    iban: str = Form(""),
    bic: str = Form(""),
    holder_name: str = Form(""),
    holder_address: str = Form(""),
    accept_mandate: bool = Form(False),
    make_default: bool = Form(False),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    try:
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            if method_type == "card":
                actions.add_card(
                    session,
                    platform,
                    owner,
                    _parse_card(card_number, card_exp, card_cvc),
                    make_default,
                )
            elif method_type == "sepa_debit":
                actions.add_sepa_debit(
                    session,
                    platform,
                    owner,
                    actions.SepaInput(
                        iban=iban,
                        bic=bic or None,
                        holder_name=holder_name,
                        holder_address=holder_address,
                        accept_mandate=accept_mandate,
                    ),
                    make_default,
                )
            else:
                actions.add_bank_transfer(session, platform, owner, make_default)
    except DomainError as error:
        kept = {"holder_name": holder_name, "holder_address": holder_address, "iban": iban}
        kept.update(bic=bic, card_number=card_number, card_exp=card_exp)
        return _payment_methods(request, account, platform, error, method_type, kept)
    return _see("/payment-methods")


@router.post("/payment-methods/{method_id}/default")
def default_payment_method_page(
    method_id: str,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        actions.set_default_payment_method(session, account, method_id)
    return _see("/payment-methods")


@router.post("/payment-methods/{method_id}/remove")
def remove_payment_method_page(
    request: Request,
    method_id: str,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    try:
        with platform.transaction() as session:
            actions.remove_payment_method(session, platform, account, method_id)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        return _payment_methods(request, account, platform, error)
    return _see("/payment-methods")


# --- staff ---------------------------------------------------------------------------------------
@router.get("/backoffice/orders", response_class=HTMLResponse)
def staff_orders_page(
    request: Request,
    state: str = "validation",
    cursor: str | None = None,
    sort: str = "",
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    if state not in rules.STATES:
        raise InvalidInput(fields={"state": "Unknown order state."})
    language = request_language(request)
    with platform.session() as session:
        orders, next_cursor = actions.list_orders(
            session,
            platform,
            account_id=None,
            states=[state],
            limit=50,
            cursor=cursor,
            sort=sort or None,
        )
        rows = [
            dict(
                _summary(order, language),
                customer=order.billing_contact.get("name"),
                handle=order.billing_contact.get("handle"),
                account_id=order.account_id,
            )
            for order in orders
        ]
    states = [(code, gettext(language, rules.STATE_LABELS[code])) for code in rules.STATES]
    return render(
        request,
        "orders/backoffice.html",
        {
            "orders": rows,
            "state": state,
            "states": states,
            "next_cursor": next_cursor,
            "sort": sort,
        },
    )


@router.get("/backoffice/orders/{order_id}", response_class=HTMLResponse)
def staff_order_page(
    order_id: str,
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    with platform.session() as session:
        order = actions.get_order(session, None, order_id)
        context = order_context(session, platform, order, language)
        context["steps"] = [
            {
                "label": gettext(language, step.label),
                "status": step.status,
                "at": step.at,
            }
            for step in actions.follow_up_of(session, order)
        ]
    return render(request, "orders/backoffice_order.html", context)


@router.post("/backoffice/orders/{order_id}/bank-transfer")
def staff_record_transfer_page(
    order_id: str,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.transaction() as session:
        actions.record_bank_transfer(session, platform, staff.id, order_id)
    return _see("/backoffice/orders?state=not_paid")
