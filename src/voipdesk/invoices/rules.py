"""Invoice rules (pure): tax per rate computed on the totals per rate, rounding, invoice numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
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


# --- Due date (billing's dunning counts from it) ----------------------------------------
PAYMENT_TERM_DAYS = 0  # a monthly invoice is payable on receipt (collected on its day)


def due_on(issued_on: date, term_days: int = PAYMENT_TERM_DAYS) -> date:
    return issued_on + timedelta(days=term_days)


# --- The customer's VAT number, from its registration number -------------------------------
def customer_vat_number(country: str, kind: str | None, registration: str | None) -> str | None:
    """The intra-community VAT number of a company or association, derived from its registration
    number as the tax offices do (FR: key + SIREN; BE: the enterprise number; CH: UID + MWST).
    None for individuals, and where no VAT number follows from it (Québec)."""
    if kind not in ("company", "association") or not registration:
        return None
    digits = "".join(ch for ch in registration if ch.isdigit())
    if country == "FR" and len(digits) >= 9:
        siren = int(digits[:9])
        return f"FR{(12 + 3 * (siren % 97)) % 97:02d}{digits[:9]}"
    if country == "BE" and len(digits) in (9, 10):
        return f"BE{digits.zfill(10)}"
    if country == "CH" and len(digits) == 9:
        return f"CHE-{digits[:3]}.{digits[3:6]}.{digits[6:]} MWST"
    return None


def creditor_reference(invoice_number: str) -> str:
    """An ISO 11649 creditor reference (RF…) for an invoice number (Swiss QR-bills, SCOR)."""
    body = "".join(ch for ch in invoice_number.upper() if ch.isalnum())
    numeric = "".join(str(int(ch, 36)) for ch in body + "RF00")
    return f"RF{98 - int(numeric) % 97:02d}{body}"


# --- Credit notes (refunds, re-rating): their own gap-free sequence ---------------------------
def credit_note_number(year: int, sequence: int) -> str:
    return f"AV-{year}-{sequence:06d}"


def credit_tax_cents(base_credited_before: int, base_credited_now: int, rate_ppm: int) -> int:
    """The tax a credit note gives back on one rate: the tax of everything credited so far
    minus the tax already given back, so that crediting a whole invoice (in one credit note or
    several) gives back exactly the invoice's tax, to the cent."""
    before = tax_cents(base_credited_before, rate_ppm)
    return tax_cents(base_credited_before + base_credited_now, rate_ppm) - before


def creditable(invoiced_cents: int, credited_cents: int, asked_cents: int) -> bool:
    """A credit note never gives back more than was invoiced (per rate), nor a negative sum."""
    return asked_cents > 0 and credited_cents + asked_cents <= invoiced_cents
