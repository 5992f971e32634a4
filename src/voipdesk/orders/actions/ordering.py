"""Creating purchase orders (from a cart, or `create_custom_order` for a line priced by another
area), reading them (one, a page of them, their follow-up)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, String, cast, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.catalogue.errors import UnknownPromotionCode
from voipdesk.catalogue.queries import (
    allowed_payment_methods,
    find_promotion,
)
from voipdesk.catalogue.services import PromotionCode
from voipdesk.core import pagination
from voipdesk.core.db import new_id
from voipdesk.core.money import round_cents
from voipdesk.orders import rules
from voipdesk.orders.actions.cart import (
    Cart,
    _check_billing_group,
    _LineBuilder,
    _next_order_number,
    _set_totals,
    _tax_json,
    billing_contact_of,
)
from voipdesk.orders.actions.mail import _email
from voipdesk.orders.errors import (
    EmptyCart,
    OrderNotFound,
    TermsNotAccepted,
)
from voipdesk.orders.models import OrderEvent, OrderLine, PurchaseOrder
from voipdesk.payments import services as payments
from voipdesk.validation import services as validation

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform


def create_order(
    session: Session,
    platform: Platform,
    account: Account,
    cart: Cart,
    accepted_terms: dict[str, str] | None = None,
) -> PurchaseOrder:
    """Builds a purchase order from a cart, reserving its numbers until the order expires.
    `accepted_terms` (document code -> version, as ticked on the review page) must name the
    current versions; they are kept on the order with the time of acceptance."""
    if not cart.lines:
        raise EmptyCart(fields={"lines": "Add at least one product."})
    _check_email_verified(session, platform, account)
    now = platform.now()
    if accepted_terms is not None and rules.outdated_terms(accepted_terms):
        raise TermsNotAccepted(
            fields={"accept_terms": "Accept the terms of sale and the telephony terms."}
        )
    if cart.billing_group_id:
        _check_billing_group(session, account.id, cart.billing_group_id)
    promotion: PromotionCode | None = None
    currency = catalogue_rules.currency_of(account.country)
    if cart.promotion_code:
        promotion = find_promotion(session, cart.promotion_code, platform.today())
        if promotion.amount_excl_tax is not None and currency != catalogue_rules.DEFAULT_CURRENCY:
            # A fixed discount is an amount in euros: it never applies to francs or dollars.
            raise UnknownPromotionCode(
                promotion=promotion.code,
                fields={"promotion_code": "This code is not valid in your currency."},
            )
    allowed = allowed_payment_methods(session, account.country, account.kind)
    default = payments.default_payment_method(session, account.id)
    order = PurchaseOrder(
        id=new_id(),
        account_id=account.id,
        state=rules.NOT_PAID,
        created_at=now,
        expires_at=rules.expiry_for(now),
        country=account.country,
        currency=currency,
        tax_date=platform.today(),
        billing_contact=billing_contact_of(account),
        default_payment_method_id=default.id
        if default is not None and default.method_type in allowed
        else None,
        allowed_payment_methods=list(allowed),
        billing_group_id=cart.billing_group_id,
        promotion_code=promotion.code if promotion else None,
        discount_percent=promotion.percent if promotion else None,
        discount_amount=promotion.amount_excl_tax if promotion else None,
        subtotal_excl_tax=Decimal("0"),
        discount_excl_tax=Decimal("0"),
        total_excl_tax=Decimal("0"),
        total_tax=Decimal("0"),
        total_incl_tax=Decimal("0"),
        tax_breakdown=[],
        terms_accepted=rules.terms_acceptance(accepted_terms, now.isoformat())
        if accepted_terms is not None
        else None,
    )
    builder = _LineBuilder(session, platform, account, order)
    for index, cart_line in enumerate(cart.lines):
        builder.add(index, cart_line)
    order.number = _next_order_number(session, platform)
    order.lines = builder.lines
    _set_totals(order)
    session.add(order)
    order.events.append(
        OrderEvent(
            at=now,
            actor=f"account:{account.id}",
            from_state=None,
            to_state=rules.NOT_PAID,
            note="created",
        )
    )
    session.flush()
    _email(session, platform, order, "order-created", "created", attach_order=True)
    return order


def _check_email_verified(session: Session, platform: Platform, account: Account) -> None:
    """Ordering waits for the confirmed e-mail address (setting `require_verified_email`), in
    the API as on the pages: 403 `email-not-verified`, nothing made."""
    from voipdesk.accounts.errors import EmailNotVerified
    from voipdesk.accounts.queries import email_verified

    if platform.settings.require_verified_email and not email_verified(session, account):
        raise EmailNotVerified()


CUSTOM_KIND = "custom"  # a line priced by another area (e.g. more simultaneous calls)


def create_custom_order(
    session: Session,
    platform: Platform,
    *,
    account_id: str,
    description: str,
    amount_excl_tax: Decimal,
    monthly_excl_tax: Decimal | None = None,
    billing_group_id: str | None = None,
    on_paid: tuple[str, dict[str, Any]],
    description_fr: str | None = None,
    period: tuple[date, date] | None = None,
) -> PurchaseOrder:
    """A purchase order of one line priced by another area, for changes to existing services
    accepted under the telephony terms. Once paid it skips validation and delivery: the outbox
    message `on_paid` (topic, payload) is sent so the owning area applies the change."""
    from voipdesk.accounts.models import Account

    account = session.get(Account, account_id)
    if account is None:
        raise OrderNotFound()
    now = platform.now()
    today = platform.today()
    allowed = allowed_payment_methods(session, account.country, account.kind)
    default = payments.default_payment_method(session, account.id)
    period = period or rules.first_period(today)
    taxes = catalogue_rules.tax_components(account.country, period[0])
    amount = round_cents(amount_excl_tax)
    topic, payload = on_paid
    line = OrderLine(
        position=0,
        offer_code=CUSTOM_KIND,
        kind=CUSTOM_KIND,
        description_en=description[:300],
        description_fr=(description_fr or description)[:300],
        quantity=1,
        unit_price_excl_tax=amount,
        monthly_price_excl_tax=monthly_excl_tax,
        amount_excl_tax=amount,
        discountable=False,
        tax_components=_tax_json(taxes),
        period_start=period[0],
        period_end=period[1],
        details={
            "on_paid": {"topic": topic, "payload": payload},
            "telephony_terms_accepted_at": now.isoformat(),
        },
    )
    order = PurchaseOrder(
        id=new_id(),
        number=_next_order_number(session, platform),
        account_id=account.id,
        state=rules.NOT_PAID,
        created_at=now,
        expires_at=rules.expiry_for(now),
        country=account.country,
        currency=catalogue_rules.currency_of(account.country),
        tax_date=period[0],
        billing_contact=billing_contact_of(account),
        default_payment_method_id=default.id
        if default is not None and default.method_type in allowed
        else None,
        allowed_payment_methods=list(allowed),
        billing_group_id=billing_group_id,
        subtotal_excl_tax=Decimal("0"),
        discount_excl_tax=Decimal("0"),
        total_excl_tax=Decimal("0"),
        total_tax=Decimal("0"),
        total_incl_tax=Decimal("0"),
        tax_breakdown=[],
        lines=[line],
    )
    _set_totals(order)
    session.add(order)
    order.events.append(
        OrderEvent(
            at=now,
            actor=f"account:{account.id}",
            from_state=None,
            to_state=rules.NOT_PAID,
            note="created; telephony terms accepted",
        )
    )
    session.flush()
    _email(session, platform, order, "order-created", "created", attach_order=True)
    return order


def _on_paid_of(order: PurchaseOrder) -> dict[str, Any] | None:
    """The message a custom order sends once paid (None for a normal order)."""
    for line in order.lines:
        if line.kind == CUSTOM_KIND and line.details.get("on_paid"):
            return dict(line.details["on_paid"])
    return None


def _order_query():
    return select(PurchaseOrder).options(
        selectinload(PurchaseOrder.lines), selectinload(PurchaseOrder.events)
    )


def get_order(session: Session, account_id: str | None, order_id: str) -> PurchaseOrder:
    """An order of this account (of any account for staff: None); another's order answers like a
    missing one."""
    order = session.scalar(_order_query().where(PurchaseOrder.id == order_id))
    if order is None or (account_id is not None and order.account_id != account_id):
        raise OrderNotFound()
    return order


def _lock_order(session: Session, order_id: str, account_id: str | None = None) -> PurchaseOrder:
    # FOR UPDATE: two payments (or a payment and a cancel) of one order run one after the other.
    order = session.scalar(
        select(PurchaseOrder)
        .where(PurchaseOrder.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None or (account_id is not None and order.account_id != account_id):
        raise OrderNotFound()
    return order


def encode_cursor(created_at: datetime, order_id: str) -> str:
    return pagination.encode_cursor(created_at, order_id)


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    """The position a cursor of `list_orders` holds (InvalidCursor when it is not ours)."""
    key = pagination.cursor_key(cursor, datetime, str)
    return (key[0], key[1]) if key else None


# The sorts of the orders list: key -> (column, cursor type); "-key" is descending.
ORDER_SORTS: dict[str, tuple[Any, type]] = {
    "date": (PurchaseOrder.created_at, datetime),
    "amount": (PurchaseOrder.total_incl_tax, str),
}
DEFAULT_ORDER_SORT = "-date"


def list_orders(
    session: Session,
    platform: Platform,
    *,
    account_id: str | None,
    states: Sequence[str] | None = None,
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> tuple[list[PurchaseOrder], str | None]:
    """Newest first unless `sort` says otherwise ("date" or "amount" incl. tax, "-" for
    descending), by pages (keyset on the sorted column and the id). Customers never see expired
    orders (nor unpaid ones past their expiry). An unknown sort is the default one."""
    wanted = sort if sort and sort.lstrip("-") in ORDER_SORTS else DEFAULT_ORDER_SORT
    column, kind = ORDER_SORTS[wanted.lstrip("-")]
    descending = wanted.startswith("-")
    # SQLite keeps amounts as text: they are ordered (never summed) as numbers there.
    by_number = kind is str and session.get_bind().dialect.name == "sqlite"
    key = cast(type_coerce(column, String), Float) if by_number else column
    query = _order_query()
    if account_id is not None:
        query = query.where(
            PurchaseOrder.account_id == account_id,
            PurchaseOrder.state.in_(rules.LISTED_STATES),
            ~(
                (PurchaseOrder.state == rules.NOT_PAID)
                & (PurchaseOrder.expires_at <= platform.now())
            ),
        )
    if states:
        query = query.where(PurchaseOrder.state.in_(states))
    position = pagination.cursor_key(cursor, kind, str)
    if position is not None:
        value, last_id = position
        if kind is str:  # an amount
            try:
                value = Decimal(value)
            except ArithmeticError:
                from voipdesk.core.pagination import InvalidCursor

                raise InvalidCursor() from None
            if by_number:
                value = float(value)
        if descending:
            query = query.where((key < value) | ((key == value) & (PurchaseOrder.id < last_id)))
        else:
            query = query.where((key > value) | ((key == value) & (PurchaseOrder.id > last_id)))
    order = (key.desc(), PurchaseOrder.id.desc()) if descending else (key, PurchaseOrder.id)
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)).all())
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = (
        pagination.encode_cursor(getattr(last, column.key), last.id) if last is not None else None
    )
    return rows[:limit], next_cursor


def reached_states(order: PurchaseOrder) -> dict[str, datetime]:
    return {event.to_state: event.at for event in order.events}


def requires_validation(session: Session, order: PurchaseOrder) -> bool:
    """Asks the VoIP validation procedure whether this order waits for manual checks. Once the
    order is paid, a True answer also opens (or reuses) its billing account's procedure."""
    billing_account = str((order.billing_contact or {}).get("account_id") or order.account_id)
    if not validation.needs_validation(
        session, [line.kind for line in order.lines], billing_account
    ):
        return False
    if order.paid_at is not None:
        validation.hold_order_for_validation(session, billing_account, order.id, order.paid_at)
    return True


def follow_up_of(session: Session, order: PurchaseOrder) -> list[rules.FollowUpStep]:
    required = order.state == rules.NOT_PAID and requires_validation(session, order)
    return rules.follow_up(
        order.state, order.created_at, order.expires_at, reached_states(order), required
    )


payments_of = payments.payments_of
