"""Orders API: purchase orders, their follow-up, paying them (`POST /orders/{id}/payments`, through
the payments area), and the staff's orders by state (payment methods and the provider's webhook are
the payments API)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from voipdesk.accounts.api_auth import current_account, current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.errors import NotAuthenticated
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money
from voipdesk.core.pagination import Page, PageParams, cursor_query, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.orders import actions, rules
from voipdesk.orders.documents import bank_transfer_instructions, render_purchase_order
from voipdesk.orders.errors import OrderNotPrintable
from voipdesk.orders.idempotency import run_idempotent
from voipdesk.orders.models import PurchaseOrder
from voipdesk.payments.schemas import CardIn, card_input

router = APIRouter(tags=["orders"])


# --- Schemas -------------------------------------------------------------------------------------
class MoneyOut(BaseModel):
    amount: str
    currency: str


class CartLineIn(BaseModel):
    offer: str = Field(
        description="offer code from GET /catalogue, e.g. sip-decouverte", max_length=60
    )
    quantity: int = Field(
        1, description="SIP/fax lines and phones: 1 to 50; alias numbers: 1, 10, 50 or 100"
    )
    numbers: list[str] | None = Field(
        None, description="chosen free numbers, one per unit", max_length=100
    )
    area: str | None = Field(
        None, description='"any number in this area": prefix like +331 or 01', max_length=40
    )
    simultaneous_calls: int | None = None
    options: list[str] = Field(
        default_factory=list, description="option codes, for SIP lines", max_length=50
    )
    phone: str | None = Field(
        None, description="a Plug & Phone code lent with each SIP line", max_length=60
    )
    for_line: str | None = Field(
        None,
        max_length=20,
        description="alias numbers: the SIP line (E.164) they are for; they redirect to it",
    )


class OrderIn(BaseModel):
    lines: list[CartLineIn] = Field(max_length=100)
    promotion_code: str | None = Field(None, max_length=60)
    billing_group_id: str | None = Field(None, max_length=64)
    accepted_terms: dict[str, str] = Field(
        description="Required: the terms read and accepted, document code -> version: "
        '`{"terms_of_sale": "2026-01-01", "telephony_terms": "2026-01-01"}` (the current '
        "versions are in `GET /api/v1/terms`). No order is made without them (422 "
        "`terms-not-accepted` for a missing or outdated version). Kept on the order with the "
        "time of acceptance.",
    )


class OrderLineOut(BaseModel):
    position: int
    offer: str
    kind: str
    description: str
    quantity: int
    unit_price_excl_tax: MoneyOut
    monthly_price_excl_tax: MoneyOut | None
    amount_excl_tax: MoneyOut
    tax_rates: list[dict[str, str]]
    period_start: date | None
    period_end: date | None
    details: dict[str, Any]


class TaxLineOut(BaseModel):
    label: str
    rate: str
    base: MoneyOut
    amount: MoneyOut


class TotalsOut(BaseModel):
    subtotal_excl_tax: MoneyOut
    discount_excl_tax: MoneyOut
    excl_tax: MoneyOut
    tax: MoneyOut
    incl_tax: MoneyOut
    taxes: list[TaxLineOut]


class OrderSummaryOut(BaseModel):
    id: str
    number: str
    created_at: str
    state: str
    state_label: str
    incl_tax: MoneyOut


class OrderOut(OrderSummaryOut):
    expires_at: str
    billing_contact: dict[str, Any]
    default_payment_method_id: str | None
    allowed_payment_methods: list[str]
    billing_group_id: str | None
    promotion_code: str | None
    lines: list[OrderLineOut]
    totals: TotalsOut
    paid_at: str | None
    invoice_id: str | None
    delivery: dict[str, Any] | None
    terms_accepted: dict[str, str] | None = None


class OrderPage(Page[OrderSummaryOut]):
    pass


class StepOut(BaseModel):
    code: str
    label: str
    status: str
    at: str | None
    action_needed: bool
    action: str | None


class FollowUpOut(BaseModel):
    order_id: str
    number: str
    state: str
    state_label: str
    steps: list[StepOut]


class PaymentIn(BaseModel):
    method: Literal["card", "sepa_debit", "bank_transfer"] | None = Field(
        None, description="default: the account's default payment method"
    )
    payment_method_id: str | None = Field(None, max_length=64)
    card: CardIn | None = Field(
        None,
        description=(
            "a card to charge once. Sandbox test cards: 4242424242424242 succeeds, "
            "4000000000000002 is declined, 4000002760003184 needs a confirmation step"
        ),
    )
    save_card: bool = False


class PaymentOut(BaseModel):
    id: str
    order_id: str
    method: str
    payment_method_id: str | None
    amount: MoneyOut
    status: str
    failure_code: str | None
    confirmation_url: str | None
    bank_transfer: dict[str, str] | None
    created_at: str
    order_state: str


# --- Serialisers ---------------------------------------------------------------------------------
def money(amount: Any, currency: str = "EUR") -> dict[str, str]:
    return Money(amount, currency).as_json()


def order_summary_json(order: PurchaseOrder, language: str) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "created_at": order.created_at.isoformat(),
        "state": order.state,
        "state_label": gettext(language, rules.STATE_LABELS[order.state]),
        "incl_tax": money(order.total_incl_tax, order.currency),
    }


def order_json(order: PurchaseOrder, language: str) -> dict[str, Any]:
    currency = order.currency
    body = order_summary_json(order, language)
    body.update(
        {
            "expires_at": order.expires_at.isoformat(),
            "billing_contact": order.billing_contact,
            "default_payment_method_id": order.default_payment_method_id,
            "allowed_payment_methods": order.allowed_payment_methods,
            "billing_group_id": order.billing_group_id,
            "promotion_code": order.promotion_code,
            "terms_accepted": order.terms_accepted,
            "lines": [
                {
                    "position": line.position,
                    "offer": line.offer_code,
                    "kind": line.kind,
                    "description": line.description(language),
                    "quantity": line.quantity,
                    "unit_price_excl_tax": money(line.unit_price_excl_tax, currency),
                    "monthly_price_excl_tax": (
                        money(line.monthly_price_excl_tax, currency)
                        if line.monthly_price_excl_tax is not None
                        else None
                    ),
                    "amount_excl_tax": money(line.amount_excl_tax, currency),
                    "tax_rates": [
                        {"label": gettext(language, item["label"]), "rate": item["rate"]}
                        for item in line.tax_components
                    ],
                    "period_start": line.period_start.isoformat() if line.period_start else None,
                    "period_end": line.period_end.isoformat() if line.period_end else None,
                    "details": line.details,
                }
                for line in order.lines
            ],
            "totals": {
                "subtotal_excl_tax": money(order.subtotal_excl_tax, currency),
                "discount_excl_tax": money(order.discount_excl_tax, currency),
                "excl_tax": money(order.total_excl_tax, currency),
                "tax": money(order.total_tax, currency),
                "incl_tax": money(order.total_incl_tax, currency),
                "taxes": [
                    {
                        "label": gettext(language, item["label"]),
                        "rate": item["rate"],
                        "base": money(item["base"], currency),
                        "amount": money(item["amount"], currency),
                    }
                    for item in order.tax_breakdown
                ],
            },
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "invoice_id": order.invoice_id,
            "delivery": order.delivery,
        }
    )
    return body


def payment_json(platform: Platform, payment: Any, order: PurchaseOrder) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "method": payment.method_type,
        "payment_method_id": payment.payment_method_id,
        "amount": money(payment.amount, payment.currency),
        "status": payment.status,
        "failure_code": payment.failure_code,
        "confirmation_url": payment.confirmation_url,
        "bank_transfer": (
            bank_transfer_instructions(platform, order)
            if payment.status == actions.AWAITING_TRANSFER
            else None
        ),
        "created_at": payment.created_at.isoformat(),
        "order_state": order.state,
    }


def follow_up_json(session: Any, order: PurchaseOrder, language: str) -> dict[str, Any]:
    steps = actions.follow_up_of(session, order)
    return {
        "order_id": order.id,
        "number": order.number,
        "state": order.state,
        "state_label": gettext(language, rules.STATE_LABELS[order.state]),
        "steps": [
            {
                "code": step.code,
                "label": gettext(language, step.label),
                "status": step.status,
                "at": step.at.isoformat() if step.at else None,
                "action_needed": step.action_needed is not None,
                "action": gettext(language, step.action_needed) if step.action_needed else None,
            }
            for step in steps
        ],
    }


def _cart(body: OrderIn) -> actions.Cart:
    return actions.Cart(
        lines=[actions.CartLine(**line.model_dump()) for line in body.lines],
        promotion_code=body.promotion_code,
        billing_group_id=body.billing_group_id,
    )


def _owner(session: Any, account: Account) -> Account:
    """The caller's account, loaded in the action's own session."""
    owner = session.get(Account, account.id)
    if owner is None:
        raise NotAuthenticated()
    return owner


# --- Terms ---------------------------------------------------------------------------------------
class TermsOut(BaseModel):
    code: str
    title: str
    version: str
    url: str


@router.get("/terms", response_model=list[TermsOut], summary="The terms accepted with an order")
def current_terms(request: Request, platform: Platform = Depends(get_platform)) -> list[TermsOut]:
    language = request_language(request)
    base = platform.settings.base_url.rstrip("/")
    return [
        TermsOut(
            code=terms.code,
            title=gettext(language, terms.title),
            version=terms.version,
            url=f"{base}/terms/{terms.code.replace('_', '-')}",
        )
        for terms in rules.TERMS.values()
    ]


# --- Orders --------------------------------------------------------------------------------------
@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    summary="Create a purchase order from a cart",
)
def create_order(
    body: OrderIn,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> JSONResponse:
    language = request_language(request)

    def act(session: Any) -> tuple[int, dict[str, Any]]:
        owner = _owner(session, account)
        order = actions.create_order(
            session, platform, owner, _cart(body), accepted_terms=body.accepted_terms
        )
        return 201, order_json(order, language)

    status, answer = run_idempotent(
        platform, account.id, "orders.create", idempotency_key, body.model_dump(), act
    )
    return JSONResponse(answer, status_code=status)


@router.get(
    "/orders", response_model=OrderPage, summary="Orders that have not expired, newest first"
)
def list_orders(
    request: Request,
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = cursor_query(),
    sort: str = Query(
        "-date",
        pattern=r"^-?(date|amount)$",
        description="date or amount (incl. tax), with - for descending; newest first by default",
    ),
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    language = request_language(request)
    with platform.session() as session:
        orders, next_cursor = actions.list_orders(
            session, platform, account_id=account.id, limit=limit, cursor=cursor, sort=sort
        )
        return {
            "items": [order_summary_json(order, language) for order in orders],
            "next_cursor": next_cursor,
        }


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(
    order_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        return order_json(
            actions.get_order(session, account.id, order_id), request_language(request)
        )


@router.get(
    "/orders/{order_id}/html", response_class=HTMLResponse, summary="The printable purchase order"
)
def get_order_html(
    order_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> HTMLResponse:
    with platform.session() as session:
        order = actions.get_order(session, account.id, order_id)
        if order.state not in rules.PRINTABLE_STATES:
            raise OrderNotPrintable()
        return HTMLResponse(
            render_purchase_order(session, platform, order, request_language(request))
        )


@router.get("/orders/{order_id}/follow-up", response_model=FollowUpOut, summary="The order's steps")
def get_follow_up(
    order_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        order = actions.get_order(session, account.id, order_id)
        return follow_up_json(session, order, request_language(request))


@router.post(
    "/orders/{order_id}/payments",
    status_code=201,
    response_model=PaymentOut,
    summary="Pay an order",
)
def pay_order(
    order_id: str,
    body: PaymentIn,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> JSONResponse:
    def act(session: Any) -> tuple[int, dict[str, Any]]:
        owner = _owner(session, account)
        request = actions.PaymentRequest(
            method=body.method,
            payment_method_id=body.payment_method_id,
            card=card_input(body.card),
            save_card=body.save_card,
        )
        payment = actions.pay_order(session, platform, owner, order_id, request)
        order = session.get(PurchaseOrder, order_id)
        return 201, payment_json(platform, payment, order)

    status, answer = run_idempotent(
        platform, account.id, f"orders.pay:{order_id}", idempotency_key, body.model_dump(), act
    )
    return JSONResponse(answer, status_code=status)


class OrderPaymentPage(Page[PaymentOut]):
    pass


@router.get(
    "/orders/{order_id}/payments",
    response_model=OrderPaymentPage,
    summary="Payment attempts of an order, oldest first",
)
def list_payments(
    order_id: str,
    page: PageParams = Depends(page_params),
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        order = actions.get_order(session, account.id, order_id)
        payments, next_cursor = paginate(
            actions.payments_of(session, order.id),
            key=lambda payment: (payment.created_at, payment.id),
            page=page,
        )
        items = [payment_json(platform, payment, order) for payment in payments]
        return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/orders/{order_id}/cancel", response_model=OrderOut, summary="Cancel an order awaiting payment"
)
def cancel_order(
    order_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        actions.cancel_order(session, platform, account, order_id)
    with platform.session() as session:
        return order_json(
            actions.get_order(session, account.id, order_id), request_language(request)
        )


# --- Staff ---------------------------------------------------------------------------------------
@router.get(
    "/backoffice/orders", response_model=OrderPage, tags=["backoffice"], summary="Orders by state"
)
def staff_orders(
    request: Request,
    state: str | None = Query(
        None, description="not_paid, validation, delivering, delivered, expired, cancelled"
    ),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = cursor_query(),
    sort: str = Query(
        "-date",
        pattern=r"^-?(date|amount)$",
        description="date or amount (incl. tax), with - for descending; newest first by default",
    ),
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    from voipdesk.core.errors import InvalidInput

    if state is not None and state not in rules.STATES:
        raise InvalidInput(fields={"state": "Unknown order state."})
    language = request_language(request)
    with platform.session() as session:
        orders, next_cursor = actions.list_orders(
            session,
            platform,
            account_id=None,
            states=[state] if state else None,
            limit=limit,
            cursor=cursor,
            sort=sort,
        )
        return {
            "items": [order_summary_json(order, language) for order in orders],
            "next_cursor": next_cursor,
        }


@router.get("/backoffice/orders/{order_id}", response_model=OrderOut, tags=["backoffice"])
def staff_order(
    order_id: str,
    request: Request,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        return order_json(actions.get_order(session, None, order_id), request_language(request))


@router.post(
    "/backoffice/orders/{order_id}/bank-transfer",
    response_model=PaymentOut,
    tags=["backoffice"],
    summary="Record the bank transfer received for an order",
)
def staff_record_transfer(
    order_id: str,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        payment = actions.record_bank_transfer(session, platform, staff.id, order_id)
        order = session.get(PurchaseOrder, order_id)
        assert order is not None
        return payment_json(platform, payment, order)
