"""Cart pricing: the lines of a cart checked against the catalogue and priced (numbers reserved,
prorated first period, promotions, taxes), and the totals of an order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.catalogue.queries import (
    normalise_number,
    offer_for_country,
    price_for,
)
from voipdesk.catalogue.services import (
    PRICE_DEPOSIT,
    PRICE_EXTRA_CALL,
    PRICE_MONTHLY,
    count_held_numbers,
    reserve_any,
    reserve_numbers,
)
from voipdesk.orders import rules
from voipdesk.orders.errors import (
    BillingGroupNotFound,
    NumbersMismatch,
    OfferKindMismatch,
    QuantityOutOfRange,
    SimultaneousCallsOutOfRange,
    TooManyAliasNumbers,
    TooManyReservedNumbers,
)
from voipdesk.orders.models import OrderLine, OrderNumberSequence, PurchaseOrder

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform


@dataclass
class CartLine:
    offer: str
    quantity: int = 1
    numbers: list[str] | None = None  # chosen numbers (E.164 or national), or None for "any"
    area: str | None = None  # "any number in this area" (prefix such as +331 or 01)
    simultaneous_calls: int | None = None
    options: list[str] = field(default_factory=list)
    phone: str | None = None  # a Plug & Phone lent for each line
    # Alias numbers ordered for a line ("another number on my line"): they redirect to it.
    for_line: str | None = None


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


# The area that owns billing groups (subscriptions, above orders) says whether a group may take
# an order: `orders.services.register_billing_group_check(fn)`; none registered accepts any.
BillingGroupCheck = Callable[[Session, str, str], bool]
_BILLING_GROUP_CHECKS: dict[str, BillingGroupCheck] = {}


def register_billing_group_check(function: BillingGroupCheck) -> BillingGroupCheck:
    """Registers `function(session, account_id, group_id) -> bool`: True when the group is the
    account's and still open."""
    _BILLING_GROUP_CHECKS[f"{function.__module__}.{function.__qualname__}"] = function
    return function


def _check_billing_group(session: Session, account_id: str, group_id: str) -> None:
    for check in _BILLING_GROUP_CHECKS.values():
        if not check(session, account_id, group_id):
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
        self.held: int | None = None  # numbers the account's unpaid orders hold, once counted

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

    def _hold(self, quantity: int) -> datetime:
        """Until when this order may hold `quantity` more numbers: a short hold (setting
        `number_hold_hours`, the numbers are held again at payment), within the account's cap."""
        settings = self.platform.settings
        if self.held is None:
            unpaid = list(
                self.session.scalars(
                    select(PurchaseOrder.id).where(
                        PurchaseOrder.account_id == self.account.id,
                        PurchaseOrder.state == rules.NOT_PAID,
                    )
                )
            )
            self.held = count_held_numbers(self.session, unpaid, self.now)
        if self.held + quantity > settings.max_reserved_numbers_per_account:
            raise TooManyReservedNumbers(
                held=self.held,
                maximum=settings.max_reserved_numbers_per_account,
                fields={"lines": "Fewer numbers, or pay an unpaid order first."},
            )
        self.held += quantity
        return min(self.order.expires_at, self.now + timedelta(hours=settings.number_hold_hours))

    def _numbers(self, index: int, cart_line: CartLine, quantity: int) -> list[str]:
        until = self._hold(quantity)
        if cart_line.numbers:
            numbers = [normalise_number(number, self.country) for number in cart_line.numbers]
            if len(numbers) != quantity or len(set(numbers)) != len(numbers):
                raise NumbersMismatch(
                    count=len(set(numbers)),
                    quantity=quantity,
                    fields={f"lines.{index}.numbers": "Give one different number per unit."},
                )
            reserve_numbers(self.session, numbers, self.order.id, until, self.now)
            return numbers
        return reserve_any(
            self.session, self.country, cart_line.area, quantity, self.order.id, until, self.now
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
            self._check_quantity(
                index,
                offer.code,
                quantity,
                f"1-{catalogue_rules.MAX_ALIAS_NUMBERS_PER_ORDER}",
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
                details={"numbers": numbers, "pool": pool}
                | (
                    {"for_line": normalise_number(cart_line.for_line, self.country)}
                    if cart_line.for_line
                    else {}
                ),
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
