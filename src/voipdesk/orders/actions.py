"""Order and payment actions. Functions taking a `session` compose into the caller's transaction
(the API wraps them with idempotency keys); the others open one transaction each."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.catalogue.actions import (
    assign_order_numbers,
    release_order_numbers,
    reserve_any,
    reserve_numbers,
)
from voipdesk.catalogue.errors import PaymentMethodNotAllowed
from voipdesk.catalogue.models import PRICE_DEPOSIT, PRICE_EXTRA_CALL, PRICE_MONTHLY, PromotionCode
from voipdesk.catalogue.queries import (
    allowed_payment_methods,
    find_promotion,
    normalise_number,
    offer_for_country,
    price_for,
)
from voipdesk.core.db import new_id
from voipdesk.core.money import round_cents
from voipdesk.core.outbox import enqueue
from voipdesk.orders import rules
from voipdesk.orders.errors import (
    BillingGroupNotFound,
    DefaultPaymentMethodInUse,
    EmptyCart,
    IbanNotSepa,
    InvalidBic,
    InvalidIban,
    InvalidTransition,
    MandateNotAccepted,
    NumbersMismatch,
    OfferKindMismatch,
    OrderExpired,
    OrderNotCancellable,
    OrderNotFound,
    OrderNotPayable,
    PaymentInProgress,
    PaymentMethodMissing,
    PaymentMethodNotFound,
    QuantityOutOfRange,
    SimultaneousCallsOutOfRange,
    TooManyAliasNumbers,
)
from voipdesk.orders.models import (
    OrderEvent,
    OrderLine,
    OrderNumberSequence,
    Payment,
    PaymentMethod,
    PurchaseOrder,
)
from voipdesk.orders.provider import (
    FAILED,
    PENDING,
    REQUIRES_CONFIRMATION,
    SUCCEEDED,
    get_provider,
)

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform

AWAITING_TRANSFER = "awaiting_transfer"
PAYMENT_CANCELLED = "cancelled"
PAYMENT_REFUNDED = "refunded"
OPEN_PAYMENT_STATES = (PENDING, REQUIRES_CONFIRMATION, AWAITING_TRANSFER)


# =================================================================================================
# Payment methods
# =================================================================================================
def list_payment_methods(session: Session, account_id: str) -> list[PaymentMethod]:
    return list(
        session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.account_id == account_id, PaymentMethod.removed_at.is_(None))
            .order_by(PaymentMethod.created_at, PaymentMethod.id)
        ).all()
    )


def get_payment_method(session: Session, account_id: str, method_id: str) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None or method.account_id != account_id or method.removed_at is not None:
        raise PaymentMethodNotFound()
    return method


def default_payment_method(session: Session, account_id: str) -> PaymentMethod | None:
    return session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.account_id == account_id,
            PaymentMethod.removed_at.is_(None),
            PaymentMethod.is_default.is_(True),
        )
    )


def _check_method_allowed(session: Session, account: Account, method_type: str) -> None:
    if method_type not in allowed_payment_methods(session, account.country, account.kind):
        raise PaymentMethodNotAllowed(
            method=method_type,
            country=account.country,
            kind=account.kind,
            fields={"type": "This payment method is not offered to your account."},
        )


def _store_method(
    session: Session,
    platform: Platform,
    account: Account,
    method: PaymentMethod,
    make_default: bool,
) -> PaymentMethod:
    method.account_id = account.id
    method.created_at = platform.now()
    current_default = default_payment_method(session, account.id)
    method.is_default = make_default or current_default is None  # the first one is the default
    if method.is_default and current_default is not None:
        current_default.is_default = False
    session.add(method)
    session.flush()
    return method


@dataclass(frozen=True)
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


def add_card(
    session: Session,
    platform: Platform,
    account: Account,
    card: CardInput,
    make_default: bool = False,
) -> PaymentMethod:
    _check_method_allowed(session, account, catalogue_rules.PAYMENT_CARD)
    provider = get_provider(platform)
    token = provider.tokenize_card(
        session,
        number=card.number,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cvc=card.cvc,
        today=platform.now(),
    )
    method = PaymentMethod(
        id=new_id(),
        method_type=catalogue_rules.PAYMENT_CARD,
        provider=provider.name,
        provider_token=token.token,
        card_brand=token.brand,
        card_last4=token.last4,
        card_exp_month=token.exp_month,
        card_exp_year=token.exp_year,
        label=f"{token.brand.upper()} •••• {token.last4}",
    )
    return _store_method(session, platform, account, method, make_default)


@dataclass(frozen=True)
class SepaInput:
    iban: str
    holder_name: str
    holder_address: str
    accept_mandate: bool
    bic: str | None = None


def validate_iban_bic(iban_text: str, bic_text: str | None) -> tuple[str, str | None]:
    """The IBAN (compact) and its BIC, checked with schwifty; the IBAN must be of a SEPA country."""
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        iban = IBAN(iban_text)
    except SchwiftyException:
        raise InvalidIban(fields={"iban": "Not a valid IBAN."}) from None
    if not catalogue_rules.is_sepa_iban_country(iban.country_code):
        raise IbanNotSepa(
            country=iban.country_code, fields={"iban": "Give an IBAN of a SEPA country."}
        )
    bic_value: str | None = None
    if bic_text:
        try:
            bic = BIC(bic_text)
        except SchwiftyException:
            raise InvalidBic(fields={"bic": "Not a valid BIC."}) from None
        derived = iban.bic
        if derived is not None and str(derived)[:8] != str(bic)[:8]:
            raise InvalidBic(fields={"bic": "This BIC is not the IBAN's bank."})
        bic_value = str(bic)
    elif iban.bic is not None:
        bic_value = str(iban.bic)
    return iban.compact, bic_value


def add_sepa_debit(
    session: Session,
    platform: Platform,
    account: Account,
    sepa: SepaInput,
    make_default: bool = False,
) -> PaymentMethod:
    _check_method_allowed(session, account, catalogue_rules.PAYMENT_SEPA_DEBIT)
    fields = {}
    if not sepa.holder_name.strip():
        fields["holder_name"] = "The account holder's name is required."
    if not sepa.holder_address.strip():
        fields["holder_address"] = "The account holder's address is required."
    if fields:
        from voipdesk.core.errors import InvalidInput

        raise InvalidInput(fields=fields)
    if not sepa.accept_mandate:
        raise MandateNotAccepted(fields={"accept_mandate": "Accept the mandate."})
    iban, bic = validate_iban_bic(sepa.iban, sepa.bic)
    prefix = platform.settings.operator_handle_suffix.upper()
    reference = f"{prefix}M-{account.handle.upper()}-{secrets.token_hex(4).upper()}"[:35]
    method = PaymentMethod(
        id=new_id(),
        method_type=catalogue_rules.PAYMENT_SEPA_DEBIT,
        iban=iban,
        bic=bic,
        holder_name=sepa.holder_name.strip(),
        holder_address=sepa.holder_address.strip(),
        mandate_reference=reference,
        mandate_signed_on=platform.today(),
        label=f"IBAN {iban[:4]} •••• {iban[-4:]}",
    )
    return _store_method(session, platform, account, method, make_default)


def add_bank_transfer(
    session: Session, platform: Platform, account: Account, make_default: bool = False
) -> PaymentMethod:
    _check_method_allowed(session, account, catalogue_rules.PAYMENT_BANK_TRANSFER)
    method = PaymentMethod(
        id=new_id(), method_type=catalogue_rules.PAYMENT_BANK_TRANSFER, label="Bank transfer"
    )
    return _store_method(session, platform, account, method, make_default)


def set_default_payment_method(session: Session, account: Account, method_id: str) -> PaymentMethod:
    method = get_payment_method(session, account.id, method_id)
    for other in list_payment_methods(session, account.id):
        other.is_default = other.id == method.id
    session.flush()
    return method


def auto_renewal_depends_on_default_method(session: Session, account_id: str) -> bool:
    """Whether services on automatic renewal need the account's default payment method
    (asked to the subscriptions area)."""
    from voipdesk.subscriptions.queries import has_auto_renewing_services

    return bool(has_auto_renewing_services(session, account_id))


def remove_payment_method(
    session: Session, platform: Platform, account: Account, method_id: str
) -> None:
    method = get_payment_method(session, account.id, method_id)
    if method.is_default and auto_renewal_depends_on_default_method(session, account.id):
        raise DefaultPaymentMethodInUse()
    method.removed_at = platform.now()
    was_default = method.is_default
    method.is_default = False
    method.provider_token = None
    if was_default:
        remaining = [
            other for other in list_payment_methods(session, account.id) if other.id != method.id
        ]
        if remaining:
            remaining[0].is_default = True
    session.flush()


# =================================================================================================
# Orders: creation
# =================================================================================================
@dataclass
class CartLine:
    offer: str
    quantity: int = 1
    numbers: list[str] | None = None  # chosen numbers (E.164 or national), or None for "any"
    area: str | None = None  # "any number in this area" (prefix such as +331 or 01)
    simultaneous_calls: int | None = None
    options: list[str] = field(default_factory=list)
    phone: str | None = None  # a Plug & Phone lent for each line


@dataclass
class Cart:
    lines: list[CartLine]
    promotion_code: str | None = None
    billing_group_id: str | None = None


def _next_order_number(session: Session, platform: Platform) -> str:
    year = platform.today().year
    sequence = session.get(OrderNumberSequence, year, with_for_update=True)
    if sequence is None:
        try:
            with session.begin_nested():  # the year's first order: another may create the row too
                session.add(OrderNumberSequence(year=year, last_value=0))
        except IntegrityError:
            pass
        sequence = session.get(
            OrderNumberSequence, year, with_for_update=True, populate_existing=True
        )
        assert sequence is not None
    sequence.last_value += 1
    prefix = platform.settings.operator_handle_suffix.upper()
    return f"{prefix}-{year}-{sequence.last_value:06d}"


def _tax_json(components: Sequence[catalogue_rules.TaxComponent]) -> list[dict[str, str]]:
    return [{"label": component.label, "rate": str(component.rate)} for component in components]


def tax_components_of(line: OrderLine) -> tuple[catalogue_rules.TaxComponent, ...]:
    return tuple(
        catalogue_rules.TaxComponent(item["label"], Decimal(item["rate"]))
        for item in line.tax_components
    )


def _check_billing_group(session: Session, account_id: str, group_id: str) -> None:
    try:
        from voipdesk.subscriptions.models import BillingGroup  # type: ignore[import-not-found]
    except ImportError:
        return
    group = session.get(BillingGroup, group_id)
    if (
        group is None
        or getattr(group, "account_id", None) != account_id
        or getattr(group, "state", "active") == "terminated"
    ):
        raise BillingGroupNotFound(fields={"billing_group_id": "No such billing group."})


class _LineBuilder:
    """Turns cart lines into priced order lines, reserving their numbers."""

    def __init__(
        self, session: Session, platform: Platform, account: Account, order: PurchaseOrder
    ) -> None:
        self.session = session
        self.platform = platform
        self.account = account
        self.order = order
        self.country = account.country
        self.today = platform.today()
        self.now = platform.now()
        self.taxes = catalogue_rules.tax_components(self.country, self.today)
        self.period = rules.first_period(self.today)
        self.lines: list[OrderLine] = []
        self.alias_count = 0

    def _labels(self, offer_code: str) -> tuple[str, str]:
        offer = offer_for_country(self.session, offer_code, self.country)
        return offer.label_en, offer.label_fr

    def _add(
        self,
        offer_code: str,
        kind: str,
        quantity: int,
        unit: Decimal,
        *,
        monthly: Decimal | None,
        label_en: str,
        label_fr: str,
        details: dict[str, Any],
        recurring: bool = True,
    ) -> OrderLine:
        line = OrderLine(
            position=len(self.lines),
            offer_code=offer_code,
            kind=kind,
            description_en=label_en[:300],
            description_fr=label_fr[:300],
            quantity=quantity,
            unit_price_excl_tax=unit,
            monthly_price_excl_tax=monthly,
            amount_excl_tax=(unit * quantity).quantize(Decimal("0.01")),
            discountable=recurring,
            tax_components=_tax_json(self.taxes if recurring else ()),
            period_start=self.period[0] if recurring else None,
            period_end=self.period[1] if recurring else None,
            details=details,
        )
        self.lines.append(line)
        return line

    def _monthly_unit(self, monthly: Decimal) -> Decimal:
        return rules.prorated(monthly, *self.period)

    def _numbers(self, index: int, cart_line: CartLine, quantity: int) -> list[str]:
        if cart_line.numbers:
            numbers = [normalise_number(number, self.country) for number in cart_line.numbers]
            if len(numbers) != quantity or len(set(numbers)) != len(numbers):
                raise NumbersMismatch(
                    count=len(set(numbers)),
                    quantity=quantity,
                    fields={f"lines.{index}.numbers": "Give one different number per unit."},
                )
            reserve_numbers(self.session, numbers, self.order.id, self.order.expires_at, self.now)
            return numbers
        return reserve_any(
            self.session,
            self.country,
            cart_line.area,
            quantity,
            self.order.id,
            self.order.expires_at,
            self.now,
        )

    def _check_quantity(
        self, index: int, offer: str, quantity: int, allowed: str, ok: bool
    ) -> None:
        if not ok:
            raise QuantityOutOfRange(
                quantity=quantity,
                offer=offer,
                allowed=allowed,
                fields={f"lines.{index}.quantity": "Quantity out of range."},
            )

    def add(self, index: int, cart_line: CartLine) -> None:
        offer = offer_for_country(self.session, cart_line.offer, self.country)
        kind = offer.kind
        quantity = cart_line.quantity
        if kind == catalogue_rules.KIND_OPTION:
            raise OfferKindMismatch(
                "%(offer)s is an option: add it to a SIP line.",
                offer=offer.code,
                fields={f"lines.{index}.offer": "Add options to a SIP line."},
            )
        if kind != catalogue_rules.KIND_SIP_LINE and (
            cart_line.options or cart_line.simultaneous_calls
        ):
            raise OfferKindMismatch(
                "Options and simultaneous calls are for SIP lines, not %(offer)s.",
                offer=offer.code,
                fields={f"lines.{index}.options": "Only SIP lines take options."},
            )
        if kind == catalogue_rules.KIND_SIP_LINE:
            self._sip_lines(index, cart_line, offer.code, offer.label_en, offer.label_fr)
        elif kind == catalogue_rules.KIND_ALIAS_NUMBER:
            allowed = catalogue_rules.ALIAS_ORDER_QUANTITIES
            self._check_quantity(
                index,
                offer.code,
                quantity,
                ", ".join(map(str, allowed)),
                catalogue_rules.is_alias_quantity_allowed(quantity),
            )
            self.alias_count += quantity
            if self.alias_count > catalogue_rules.MAX_ALIAS_NUMBERS_PER_ORDER:
                raise TooManyAliasNumbers(
                    maximum=catalogue_rules.MAX_ALIAS_NUMBERS_PER_ORDER,
                    fields={f"lines.{index}.quantity": "Too many alias numbers."},
                )
            numbers = self._numbers(index, cart_line, quantity)
            monthly = price_for(self.session, offer.code, PRICE_MONTHLY, self.country, self.today)
            assert monthly is not None
            pool = catalogue_rules.forms_alias_pool(quantity)
            self._add(
                offer.code,
                kind,
                quantity,
                self._monthly_unit(monthly),
                monthly=monthly,
                label_en=offer.label_en + (" (pool)" if pool else ""),
                label_fr=offer.label_fr + (" (pool)" if pool else ""),
                details={"numbers": numbers, "pool": pool},
            )
        elif kind == catalogue_rules.KIND_FAX_LINE:
            self._check_quantity(
                index,
                offer.code,
                quantity,
                rules.QUANTITY_RANGE_TEXT,
                1 <= quantity <= rules.MAX_UNITS_PER_LINE,
            )
            numbers = self._numbers(index, cart_line, quantity)
            monthly = price_for(self.session, offer.code, PRICE_MONTHLY, self.country, self.today)
            assert monthly is not None
            self._add(
                offer.code,
                kind,
                quantity,
                self._monthly_unit(monthly),
                monthly=monthly,
                label_en=offer.label_en,
                label_fr=offer.label_fr,
                details={"numbers": numbers},
            )
        elif kind == catalogue_rules.KIND_PHONE:
            self._check_quantity(
                index,
                offer.code,
                quantity,
                rules.QUANTITY_RANGE_TEXT,
                1 <= quantity <= rules.MAX_UNITS_PER_LINE,
            )
            self._phone(offer.code, quantity, None)
        else:  # pragma: no cover - a kind the catalogue does not know
            raise OfferKindMismatch(offer=offer.code)

    def _phone(self, code: str, quantity: int, for_numbers: list[str] | None) -> None:
        offer = offer_for_country(self.session, code, self.country)
        if offer.kind != catalogue_rules.KIND_PHONE:
            raise OfferKindMismatch(
                "%(offer)s is not a phone.", offer=code, fields={"phone": "Choose a phone."}
            )
        deposit = price_for(self.session, code, PRICE_DEPOSIT, self.country, self.today)
        assert deposit is not None
        self._add(
            code,
            catalogue_rules.KIND_PHONE,
            quantity,
            deposit,
            monthly=None,
            label_en=f"{offer.label_en} (deposit)",
            label_fr=f"{offer.label_fr} (caution)",
            details={"for_numbers": for_numbers or []},
            recurring=False,
        )

    def _sip_lines(
        self, index: int, cart_line: CartLine, code: str, label_en: str, label_fr: str
    ) -> None:
        quantity = cart_line.quantity
        self._check_quantity(
            index,
            code,
            quantity,
            rules.QUANTITY_RANGE_TEXT,
            1 <= quantity <= rules.MAX_UNITS_PER_LINE,
        )
        calls_range = catalogue_rules.simultaneous_calls_range(code)
        assert calls_range is not None
        calls = cart_line.simultaneous_calls or calls_range.minimum
        if not calls_range.allows(calls):
            raise SimultaneousCallsOutOfRange(
                offer=code,
                minimum=calls_range.minimum,
                maximum=calls_range.maximum,
                calls=calls,
                fields={f"lines.{index}.simultaneous_calls": "Out of the offer's range."},
            )
        option_offers = []
        for option in cart_line.options:
            option_offer = offer_for_country(self.session, option, self.country)
            if option_offer.kind != catalogue_rules.KIND_OPTION:
                raise OfferKindMismatch(
                    "%(offer)s is not an option.",
                    offer=option,
                    fields={f"lines.{index}.options": "Choose options of the catalogue."},
                )
            option_offers.append(option_offer)
        numbers = self._numbers(index, cart_line, quantity)
        monthly = price_for(self.session, code, PRICE_MONTHLY, self.country, self.today)
        assert monthly is not None
        extra = calls_range.extra_calls(calls)
        if extra:
            extra_price = price_for(self.session, code, PRICE_EXTRA_CALL, self.country, self.today)
            assert extra_price is not None
            monthly = monthly + extra_price * extra
        suffix_en = f" ({calls} simultaneous calls)" if calls_range.adjustable else ""
        suffix_fr = f" ({calls} appels simultanés)" if calls_range.adjustable else ""
        self._add(
            code,
            catalogue_rules.KIND_SIP_LINE,
            quantity,
            self._monthly_unit(monthly),
            monthly=monthly,
            label_en=label_en + suffix_en,
            label_fr=label_fr + suffix_fr,
            details={
                "numbers": numbers,
                "simultaneous_calls": calls,
                "options": [option.code for option in option_offers],
                "phone": cart_line.phone,
            },
        )
        for option_offer in option_offers:
            option_monthly = price_for(
                self.session, option_offer.code, PRICE_MONTHLY, self.country, self.today
            )
            assert option_monthly is not None
            self._add(
                option_offer.code,
                catalogue_rules.KIND_OPTION,
                quantity,
                self._monthly_unit(option_monthly),
                monthly=option_monthly,
                label_en=option_offer.label_en,
                label_fr=option_offer.label_fr,
                details={"for_numbers": numbers},
            )
        if cart_line.phone:
            self._phone(cart_line.phone, quantity, numbers)


def priced_lines(order: PurchaseOrder) -> list[rules.PricedLine]:
    return [
        rules.PricedLine(
            line.quantity, line.unit_price_excl_tax, tax_components_of(line), line.discountable
        )
        for line in order.lines
    ]


def order_totals(order: PurchaseOrder) -> rules.Totals:
    discount = None
    if order.discount_percent is not None or order.discount_amount is not None:
        discount = rules.Discount(order.discount_percent, order.discount_amount)
    return rules.compute_totals(priced_lines(order), discount)


def billing_contact_of(account: Account) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "handle": account.handle,
        "name": account.display_name,
        "email": account.email,
        "address_line1": account.address_line1,
        "address_line2": account.address_line2,
        "postal_code": account.postal_code,
        "city": account.city,
        "country": account.country,
    }


def _set_totals(order: PurchaseOrder) -> None:
    totals = order_totals(order)
    order.subtotal_excl_tax = totals.subtotal_excl_tax
    order.discount_excl_tax = totals.discount_excl_tax
    order.total_excl_tax = totals.excl_tax
    order.total_tax = totals.tax
    order.total_incl_tax = totals.incl_tax
    order.tax_breakdown = [
        {
            "label": component.label,
            "rate": str(component.rate),
            "base": f"{base:.2f}",
            "amount": f"{tax:.2f}",
        }
        for component, base, tax in totals.tax_by_label()
    ]


def create_order(
    session: Session, platform: Platform, account: Account, cart: Cart
) -> PurchaseOrder:
    """Builds a purchase order from a cart, reserving its numbers until the order expires."""
    if not cart.lines:
        raise EmptyCart(fields={"lines": "Add at least one product."})
    now = platform.now()
    if cart.billing_group_id:
        _check_billing_group(session, account.id, cart.billing_group_id)
    promotion: PromotionCode | None = None
    if cart.promotion_code:
        promotion = find_promotion(session, cart.promotion_code, platform.today())
    allowed = allowed_payment_methods(session, account.country, account.kind)
    default = default_payment_method(session, account.id)
    order = PurchaseOrder(
        id=new_id(),
        account_id=account.id,
        state=rules.NOT_PAID,
        created_at=now,
        expires_at=rules.expiry_for(now),
        country=account.country,
        currency="EUR",
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
    default = default_payment_method(session, account.id)
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
        currency="EUR",
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


# =================================================================================================
# Orders: reading
# =================================================================================================
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
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{order_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        stamp, order_id = text.split("|", 1)
        return datetime.fromisoformat(stamp), order_id
    except (ValueError, UnicodeDecodeError):
        return None


def list_orders(
    session: Session,
    platform: Platform,
    *,
    account_id: str | None,
    states: Sequence[str] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[PurchaseOrder], str | None]:
    """Newest first. Customers never see expired orders (nor unpaid ones past their expiry)."""
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
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        stamp, last_id = position
        query = query.where(
            (PurchaseOrder.created_at < stamp)
            | ((PurchaseOrder.created_at == stamp) & (PurchaseOrder.id < last_id))
        )
    rows = list(
        session.scalars(
            query.order_by(PurchaseOrder.created_at.desc(), PurchaseOrder.id.desc()).limit(
                limit + 1
            )
        ).all()
    )
    next_cursor = (
        encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    )
    return rows[:limit], next_cursor


def reached_states(order: PurchaseOrder) -> dict[str, datetime]:
    return {event.to_state: event.at for event in order.events}


def follow_up_of(session: Session, order: PurchaseOrder) -> list[rules.FollowUpStep]:
    required = order.state == rules.NOT_PAID and requires_validation(session, order)
    return rules.follow_up(
        order.state, order.created_at, order.expires_at, reached_states(order), required
    )


def payments_of(session: Session, order_id: str) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.created_at)
        )
    )


# =================================================================================================
# State changes
# =================================================================================================
def transition(
    session: Session,
    platform: Platform,
    order: PurchaseOrder,
    to_state: str,
    actor: str,
    note: str = "",
) -> None:
    """Every state change goes through the table, and is recorded."""
    if not rules.can_transition(order.state, to_state):
        raise InvalidTransition(from_state=order.state, to_state=to_state)
    session.add(
        OrderEvent(
            order_id=order.id,
            at=platform.now(),
            actor=actor,
            from_state=order.state,
            to_state=to_state,
            note=note[:300],
        )
    )
    order.state = to_state
    session.flush()


def requires_validation(session: Session, order: PurchaseOrder) -> bool:
    """Asks the VoIP validation procedure whether this order waits for manual checks."""
    try:
        from voipdesk.validation import gate  # type: ignore[attr-defined]
    except ImportError:
        return False
    return bool(gate.requires_validation(session, order))


def _cancel_open_payments(
    session: Session, platform: Platform, order_id: str, except_id: str | None = None
) -> None:
    provider = get_provider(platform)
    for payment in payments_of(session, order_id):
        if payment.id == except_id or payment.status not in (
            REQUIRES_CONFIRMATION,
            AWAITING_TRANSFER,
        ):
            continue
        if payment.provider_reference:
            provider.cancel(session, payment.provider_reference)
        payment.status = PAYMENT_CANCELLED
        payment.settled_at = platform.now()


def cancel_order(
    session: Session, platform: Platform, account: Account, order_id: str
) -> PurchaseOrder:
    order = _lock_order(session, order_id, account.id)
    if order.state != rules.NOT_PAID:
        raise OrderNotCancellable(state=order.state)
    if any(payment.status == PENDING for payment in payments_of(session, order.id)):
        raise PaymentInProgress()
    transition(
        session,
        platform,
        order,
        rules.CANCELLED,
        f"account:{account.id}",
        "cancelled by the customer",
    )
    release_order_numbers(session, order.id)
    _cancel_open_payments(session, platform, order.id)
    return order


def expire_due_orders(platform: Platform) -> int:
    """Periodic: unpaid orders past their expiry become expired, their numbers free again."""
    with platform.session() as reader:
        due = list(
            reader.scalars(
                select(PurchaseOrder.id).where(
                    PurchaseOrder.state == rules.NOT_PAID,
                    PurchaseOrder.expires_at <= platform.now(),
                )
            )
        )
    expired = 0
    for order_id in due:
        with platform.transaction() as session:
            order = _lock_order(session, order_id)
            if order.state != rules.NOT_PAID or not rules.is_past_expiry(
                order.expires_at, platform.now()
            ):
                continue
            if any(payment.status == PENDING for payment in payments_of(session, order.id)):
                continue  # a direct debit in flight: its result decides
            transition(session, platform, order, rules.EXPIRED, "system", "expiry date passed")
            release_order_numbers(session, order.id)
            _cancel_open_payments(session, platform, order.id)
            _email(session, platform, order, "order-expired", "expired")
            expired += 1
    return expired


def remind_expiring_orders(platform: Platform) -> int:
    """Periodic: one reminder per unpaid order, three days before it expires."""
    now = platform.now()
    with platform.session() as reader:
        due = list(
            reader.scalars(
                select(PurchaseOrder.id).where(
                    PurchaseOrder.state == rules.NOT_PAID,
                    PurchaseOrder.expiry_reminder_sent_at.is_(None),
                    PurchaseOrder.expires_at > now,
                    PurchaseOrder.expires_at <= now + rules.EXPIRY_REMINDER_BEFORE,
                )
            )
        )
    sent = 0
    for order_id in due:
        with platform.transaction() as session:
            order = _lock_order(session, order_id)
            if (
                order.state != rules.NOT_PAID
                or order.expiry_reminder_sent_at is not None
                or not rules.is_due_for_expiry_reminder(order.expires_at, platform.now())
            ):
                continue
            order.expiry_reminder_sent_at = platform.now()
            _email(session, platform, order, "order-expiring", "expiring", attach_order=True)
            sent += 1
    return sent


# =================================================================================================
# Payments
# =================================================================================================
@dataclass
class PaymentRequest:
    method: str | None = (
        None  # card | sepa_debit | bank_transfer; default: the order's default method
    )
    payment_method_id: str | None = None
    card: CardInput | None = None
    save_card: bool = False


def _check_payable(order: PurchaseOrder, platform: Platform) -> None:
    if order.state == rules.EXPIRED or (
        order.state == rules.NOT_PAID and rules.is_past_expiry(order.expires_at, platform.now())
    ):
        raise OrderExpired(expired=order.expires_at.date().isoformat())
    if order.state != rules.NOT_PAID:
        raise OrderNotPayable(state=order.state)


def pay_order(
    session: Session, platform: Platform, account: Account, order_id: str, request: PaymentRequest
) -> Payment:
    """One payment attempt. The order row is locked, so of two racing payments one wins and the
    other finds the order paid; the provider gets the payment id as its idempotency key."""
    order = _lock_order(session, order_id, account.id)
    _check_payable(order, platform)
    open_payments = payments_of(session, order.id)
    if any(payment.status == PENDING for payment in open_payments):
        raise PaymentInProgress()

    method: PaymentMethod | None = None
    if request.payment_method_id:
        method = get_payment_method(session, account.id, request.payment_method_id)
    elif request.card is not None:
        if request.save_card:
            method = add_card(session, platform, account, request.card)
    elif request.method != catalogue_rules.PAYMENT_BANK_TRANSFER:
        method = default_payment_method(session, account.id)
        if (
            request.method is not None
            and method is not None
            and method.method_type != request.method
        ):
            method = None
    method_type = (
        method.method_type
        if method is not None
        else (catalogue_rules.PAYMENT_CARD if request.card is not None else request.method)
    )
    if method_type is None or (
        method is None
        and method_type != catalogue_rules.PAYMENT_BANK_TRANSFER
        and request.card is None
    ):
        raise PaymentMethodMissing(fields={"payment_method_id": "Choose a payment method."})
    if method_type not in order.allowed_payment_methods:
        raise PaymentMethodNotAllowed(
            method=method_type,
            country=account.country,
            kind=account.kind,
            fields={"method": "Not offered for this order."},
        )

    _cancel_open_payments(session, platform, order.id)
    payment = Payment(
        id=new_id(),
        order_id=order.id,
        account_id=account.id,
        method_type=method_type,
        payment_method_id=method.id if method is not None else None,
        amount=order.total_incl_tax,
        currency=order.currency,
        status=PENDING,
        created_at=platform.now(),
    )
    session.add(payment)
    session.flush()
    provider = get_provider(platform)
    metadata = {"order_id": order.id, "payment_id": payment.id, "order_number": order.number}
    description = f"{platform.settings.operator_name} {order.number}"
    if method_type == catalogue_rules.PAYMENT_BANK_TRANSFER:
        payment.status = AWAITING_TRANSFER
        return payment
    if method_type == catalogue_rules.PAYMENT_CARD:
        if method is not None:
            token = method.provider_token
        else:
            assert request.card is not None
            token = provider.tokenize_card(
                session,
                number=request.card.number,
                exp_month=request.card.exp_month,
                exp_year=request.card.exp_year,
                cvc=request.card.cvc,
                today=platform.now(),
            ).token
        assert token is not None
        result = provider.charge_card(
            session,
            token=token,
            amount=payment.amount,
            currency=payment.currency,
            description=description,
            idempotency_key=payment.id,
            metadata=metadata,
        )
    else:
        assert method is not None and method.mandate_reference and method.iban
        result = provider.debit_sepa(
            session,
            mandate_reference=method.mandate_reference,
            iban=method.iban,
            amount=payment.amount,
            currency=payment.currency,
            description=description,
            idempotency_key=payment.id,
            metadata=metadata,
        )
    payment.provider = provider.name
    payment.provider_reference = result.reference
    payment.confirmation_url = result.confirmation_url
    if result.status == SUCCEEDED:
        settle_payment_success(session, platform, order, payment, actor=f"account:{account.id}")
    elif result.status == FAILED:
        payment.status = FAILED
        payment.failure_code = result.failure_code
        payment.settled_at = platform.now()
    else:
        payment.status = result.status
    session.flush()
    return payment


def settle_payment_success(
    session: Session, platform: Platform, order: PurchaseOrder, payment: Payment, actor: str
) -> None:
    """Applies a successful payment once (the order row must be locked). Money that arrives for an
    order that can no longer be paid (paid by another payment, cancelled, expired) is refunded."""
    if payment.status in (SUCCEEDED, PAYMENT_REFUNDED):
        return
    now = platform.now()
    payable = order.state == rules.NOT_PAID and not rules.is_past_expiry(order.expires_at, now)
    if not payable:
        if payment.provider_reference:
            get_provider(platform).refund(session, payment.provider_reference)
        payment.status = PAYMENT_REFUNDED
        payment.settled_at = now
        return
    payment.status = SUCCEEDED
    payment.settled_at = now
    order.paid_at = now
    assign_order_numbers(session, order.id, order.account_id)
    if order.promotion_code:
        promotion = session.get(PromotionCode, order.promotion_code, with_for_update=True)
        if promotion is not None:
            promotion.used_count += 1
    _cancel_open_payments(session, platform, order.id, except_id=payment.id)
    on_paid = _on_paid_of(order)
    if on_paid is not None:
        _settle_custom_order(session, platform, order, payment, actor, on_paid)
        return
    needs_validation = requires_validation(session, order)
    target = rules.VALIDATION if needs_validation else rules.DELIVERING
    transition(session, platform, order, target, actor, f"payment {payment.id}")
    # An order held in validation says so here; the procedure itself (PDF, documents, where to
    # send them) is the validation area's own e-mail, so nothing else is sent for it.
    _email(
        session,
        platform,
        order,
        "order-payment-received",
        "payment_received",
        extra={"awaiting_procedure": needs_validation},
    )
    enqueue(
        session,
        "orders.issue_invoice",
        {"order_id": order.id},
        now,
        dedup_key=f"order-invoice:{order.id}",
    )
    if not needs_validation:
        _enqueue_delivery(session, platform, order)


def _settle_custom_order(
    session: Session,
    platform: Platform,
    order: PurchaseOrder,
    payment: Payment,
    actor: str,
    on_paid: dict[str, Any],
) -> None:
    """A paid custom order: no validation, no provisioning; the owning area applies the change
    through its outbox message (written in this same transaction, so it cannot be lost)."""
    now = platform.now()
    transition(session, platform, order, rules.DELIVERING, actor, f"payment {payment.id}")
    enqueue(
        session, on_paid["topic"], on_paid["payload"], now, dedup_key=f"order-on-paid:{order.id}"
    )
    transition(session, platform, order, rules.DELIVERED, "system", on_paid["topic"])
    _email(session, platform, order, "order-payment-received", "payment_received")
    enqueue(
        session,
        "orders.issue_invoice",
        {"order_id": order.id},
        now,
        dedup_key=f"order-invoice:{order.id}",
    )


def _enqueue_delivery(session: Session, platform: Platform, order: PurchaseOrder) -> None:
    enqueue(
        session,
        "orders.deliver",
        {"order_id": order.id},
        platform.now(),
        dedup_key=f"order-deliver:{order.id}",
    )


def release_order_after_validation(session: Session, platform: Platform, order_id: str) -> None:
    """Called by the validation area when a procedure is approved: the order goes to delivery.
    Idempotent: an order already past validation is left as it is."""
    order = _lock_order(session, order_id)
    if order.state in (rules.DELIVERING, rules.DELIVERED):
        return
    transition(session, platform, order, rules.DELIVERING, "validation", "validation approved")
    _enqueue_delivery(session, platform, order)


def order_ids_in_validation(session: Session, account_id: str) -> list[str]:
    return list(
        session.scalars(
            select(PurchaseOrder.id).where(
                PurchaseOrder.account_id == account_id, PurchaseOrder.state == rules.VALIDATION
            )
        )
    )


def record_bank_transfer(
    session: Session, platform: Platform, staff_id: str, order_id: str
) -> Payment:
    """Staff saw the transfer (reference: the order number) arrive on the operator's account."""
    order = _lock_order(session, order_id)
    _check_payable(order, platform)
    payment = next(
        (p for p in payments_of(session, order.id) if p.status == AWAITING_TRANSFER), None
    )
    if payment is None:
        payment = Payment(
            id=new_id(),
            order_id=order.id,
            account_id=order.account_id,
            method_type=catalogue_rules.PAYMENT_BANK_TRANSFER,
            amount=order.total_incl_tax,
            currency=order.currency,
            status=AWAITING_TRANSFER,
            created_at=platform.now(),
        )
        session.add(payment)
        session.flush()
    settle_payment_success(session, platform, order, payment, actor=f"staff:{staff_id}")
    return payment


def handle_provider_event(
    session: Session,
    platform: Platform,
    event_id: str,
    event_type: str,
    reference: str,
    data: dict[str, Any],
) -> bool:
    """A verified webhook event. Returns False when it was already handled (a replay)."""
    from voipdesk.orders.models import ProviderWebhookEvent

    if session.get(ProviderWebhookEvent, event_id) is not None:
        return False
    session.add(
        ProviderWebhookEvent(
            event_id=event_id,
            provider="sandbox",
            event_type=event_type,
            received_at=platform.now(),
            payload=data,
        )
    )
    session.flush()
    payment = session.scalar(select(Payment).where(Payment.provider_reference == reference))
    if payment is None:
        return True  # not ours (or not yet known): acknowledged, nothing to do
    order = _lock_order(session, payment.order_id)
    session.refresh(payment)
    if event_type == "payment.succeeded":
        settle_payment_success(session, platform, order, payment, actor="provider")
    elif event_type == "payment.failed" and payment.status in (PENDING, REQUIRES_CONFIRMATION):
        payment.status = FAILED
        payment.failure_code = str(data.get("failure_code") or "declined")
        payment.settled_at = platform.now()
    return True


# =================================================================================================
# Delivery and invoice (outbox handlers call these)
# =================================================================================================
def deliver_order(platform: Platform, session: Session, order_id: str) -> None:
    """Creates what was ordered through the subscriptions area, then sends the access details."""
    from voipdesk.subscriptions import provisioning as prov

    order = _lock_order(session, order_id)
    if order.state != rules.DELIVERING:
        return  # already delivered (a repeated message): nothing to do
    sip_lines: list[Any] = []
    alias_numbers: list[Any] = []
    fax_lines: list[Any] = []
    phone_loans: list[Any] = []
    alias_pool = False
    options_by_number: dict[str, list[str]] = {}
    option_prices: dict[str, Decimal] = {}  # as ordered, not as the catalogue says later
    for line in order.lines:
        if line.kind == catalogue_rules.KIND_OPTION:
            option_prices[line.offer_code] = line.monthly_price_excl_tax or Decimal("0")
            for number in line.details.get("for_numbers", []):
                options_by_number.setdefault(number, []).append(line.offer_code)
    takes_option_prices = "option_prices" in getattr(
        prov.SipLineRequest, "__dataclass_fields__", {}
    )
    for line in order.lines:
        details = line.details
        monthly = line.monthly_price_excl_tax or Decimal("0")
        if line.kind == catalogue_rules.KIND_SIP_LINE:
            for number in details["numbers"]:
                codes = options_by_number.get(number, [])
                extra: dict[str, Any] = {}
                if takes_option_prices:
                    extra["option_prices"] = {code: option_prices[code] for code in codes}
                sip_lines.append(
                    prov.SipLineRequest(
                        offer_code=line.offer_code,
                        number_e164=number,
                        simultaneous_calls=int(details.get("simultaneous_calls") or 1),
                        option_codes=codes,
                        monthly_price_excl_tax=monthly,
                        **extra,
                    )
                )
        elif line.kind == catalogue_rules.KIND_ALIAS_NUMBER:
            alias_pool = alias_pool or bool(details.get("pool"))
            alias_numbers.extend(
                prov.AliasNumberRequest(number_e164=n, monthly_price_excl_tax=monthly)
                for n in details["numbers"]
            )
        elif line.kind == catalogue_rules.KIND_FAX_LINE:
            fax_lines.extend(
                prov.FaxLineRequest(number_e164=n, monthly_price_excl_tax=monthly)
                for n in details["numbers"]
            )
        elif line.kind == catalogue_rules.KIND_PHONE:
            targets = details.get("for_numbers") or []
            for index in range(line.quantity):
                phone_loans.append(
                    prov.PhoneLoanRequest(
                        hardware_code=line.offer_code,
                        deposit=line.unit_price_excl_tax,
                        for_line_number=targets[index] if index < len(targets) else None,
                    )
                )
    request = prov.DeliveryRequest(
        account_id=order.account_id,
        order_id=order.id,
        billing_group_id=order.billing_group_id,
        sip_lines=sip_lines,
        alias_numbers=alias_numbers,
        alias_pool=alias_pool,
        fax_lines=fax_lines,
        phone_loans=phone_loans,
    )
    result = prov.provision_delivery(session, platform, request)
    order.billing_group_id = result.billing_group_id
    order.delivery = {
        "billing_group_id": result.billing_group_id,
        "sip_lines": [line.number_e164 for line in sip_lines],
        "alias_numbers": [number.number_e164 for number in alias_numbers],
        "fax_lines": [fax.number_e164 for fax in fax_lines],
        "phones": len(phone_loans),
    }
    transition(session, platform, order, rules.DELIVERED, "system", "delivered")
    credentials = [
        {
            "number": credential.number_e164,
            "username": credential.sip_username,
            "password": credential.sip_password,
        }
        for credential in result.sip_credentials
    ]
    _email(
        session, platform, order, "order-delivered", "delivered", extra={"credentials": credentials}
    )


def invoice_lines_of(order: PurchaseOrder, language: str) -> list[dict[str, Any]]:
    """The invoice lines of an order: its lines, then one discount line per tax group."""
    lines: list[dict[str, Any]] = []
    for line in order.lines:
        lines.append(
            {
                "description": line.description(language),
                "quantity": Decimal(line.quantity),
                "unit_price_excl_tax": line.unit_price_excl_tax,
                "tax_components": tax_components_of(line),
                "period_start": line.period_start,
                "period_end": line.period_end,
                "service_id": None,
            }
        )
    for group in order_totals(order).groups:
        if group.discount_excl_tax:
            label = "Remise" if language == "fr" else "Discount"
            lines.append(
                {
                    "description": f"{label} {order.promotion_code or ''}".strip(),
                    "quantity": Decimal(1),
                    "unit_price_excl_tax": -group.discount_excl_tax,
                    "tax_components": group.components,
                    "period_start": None,
                    "period_end": None,
                    "service_id": None,
                }
            )
    return lines


def issue_order_invoice(platform: Platform, session: Session, order_id: str) -> None:
    from voipdesk.accounts.models import Account
    from voipdesk.billing.invoicing import InvoiceLineInput, issue_invoice

    order = _lock_order(session, order_id)
    if order.invoice_id is not None or order.paid_at is None:
        return
    account = session.get(Account, order.account_id)
    language = account.language if account is not None else "fr"
    invoice = issue_invoice(
        session,
        platform,
        account_id=order.account_id,
        lines=[InvoiceLineInput(**line) for line in invoice_lines_of(order, language)],
        order_id=order.id,
        billing_group_id=order.billing_group_id,
        issued_on=platform.today(),
        paid=True,
    )
    order.invoice_id = invoice.id


# =================================================================================================
# E-mails
# =================================================================================================
def _email(
    session: Session,
    platform: Platform,
    order: PurchaseOrder,
    kind: str,
    template: str,
    *,
    attach_order: bool = False,
    extra: dict[str, Any] | None = None,
) -> None:
    from voipdesk.accounts.emails import send_service_email
    from voipdesk.accounts.models import Account
    from voipdesk.orders.documents import order_context, render_purchase_order

    account = session.get(Account, order.account_id)
    assert account is not None
    language = account.language
    context = order_context(session, platform, order, language)
    context.update(extra or {})
    attachments: list[tuple[str, str, bytes]] = []
    if attach_order:
        html = render_purchase_order(session, platform, order, language)
        attachments.append((f"{order.number}.html", "text/html", html.encode()))
    send_service_email(
        session,
        platform,
        account=account,
        kind=kind,
        template=f"orders/{template}",
        context=context,
        attachments=attachments,
    )
