"""Invoice rules (pure): tax per rate computed on the totals per rate, rounding, invoice numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
PPM = 1_000_000


def round_half_up(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_to_ppm(rate: Decimal) -> int:
    return int((rate * PPM).to_integral_value())


def tax_cents(base_cents: int, rate_ppm: int) -> int:
    """Tax on a base in cents, rounded to the cent half up (away from zero), in integers: the
    same rule the renewal's SQL applies."""
    product = abs(base_cents) * rate_ppm
    rounded = (product + PPM // 2) // PPM
    return rounded if base_cents >= 0 else -rounded


@dataclass(frozen=True, slots=True)
class TaxLine:
    label: str
    rate_ppm: int
    base_cents: int
    tax_cents: int


def tax_breakdown(lines: Iterable[tuple[int, Iterable[tuple[str, Decimal]]]]) -> list[TaxLine]:
    """`lines` = (amount excl. tax in cents, its taxes as (label, rate)). The tax of each
    (label, rate) is computed once on the total of the amounts it applies to."""
    bases: dict[tuple[str, int], int] = {}
    for amount, components in lines:
        for label, rate in components:
            key = (label, rate_to_ppm(rate))
            bases[key] = bases.get(key, 0) + amount
    return [TaxLine(label, ppm, base, tax_cents(base, ppm)) for (label, ppm), base in bases.items()]


def invoice_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"
