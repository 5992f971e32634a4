"""A check of a Factur-X / CII invoice against business rules of EN 16931 (the European standard
the Factur-X BASIC profile follows), in plain Python over the XML.

What it checks is what it names below, no more: the official rules are Schematron files with
XSLT 2 bindings, which no package installable from PyPI or Debian here ships or runs (lxml runs
XSLT 1 only), so the rules that matter for the invoices voipdesk makes are written here with
their official identifiers: the mandatory business terms (BR-01 to BR-16, BR-21 to BR-26), the
totals (BR-CO-10, BR-CO-13 to BR-CO-17), the standard-rated VAT breakdown (BR-S-01, BR-S-02,
BR-S-05, BR-S-08, BR-S-09), the seller's identification (BR-CO-26) and two decimals on amounts
(BR-DEC). The XSD itself is checked by the `factur-x` library."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
RULES = (
    "BR-01", "BR-02", "BR-03", "BR-04", "BR-05", "BR-06", "BR-07", "BR-08", "BR-09", "BR-10",
    "BR-11", "BR-12", "BR-13", "BR-14", "BR-15", "BR-16", "BR-21", "BR-22", "BR-23", "BR-24",
    "BR-25", "BR-26", "BR-CO-10", "BR-CO-13", "BR-CO-14", "BR-CO-15", "BR-CO-16", "BR-CO-17",
    "BR-CO-26", "BR-S-01", "BR-S-02", "BR-S-05", "BR-S-08", "BR-S-09", "BR-DEC",
)  # fmt: skip
CENT = Decimal("0.01")

_TX = "rsm:SupplyChainTradeTransaction"
_SETTLEMENT = f"{_TX}/ram:ApplicableHeaderTradeSettlement"
_TOTALS = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
_SELLER = f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty"
_BUYER = f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty"


def _text(node: etree._Element, path: str) -> str:
    found = node.xpath(f"string({path})", namespaces=NS)
    return str(found).strip()


def _amount(node: etree._Element, path: str) -> Decimal | None:
    text = _text(node, path)
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def problems(xml: bytes) -> list[str]:
    """Every rule broken, as "<rule id>: <what>"; an empty list when all of them hold."""
    root = etree.fromstring(xml)
    found: list[str] = []

    def need(rule: str, path: str, what: str) -> None:
        if not _text(root, path):
            found.append(f"{rule}: {what} is missing")

    need("BR-01", "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter"
         "/ram:ID", "the specification identifier (BT-24)")  # fmt: skip
    need("BR-02", "rsm:ExchangedDocument/ram:ID", "the invoice number (BT-1)")
    need("BR-03", "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString",
         "the issue date (BT-2)")  # fmt: skip
    need("BR-04", "rsm:ExchangedDocument/ram:TypeCode", "the invoice type code (BT-3)")
    need("BR-05", f"{_SETTLEMENT}/ram:InvoiceCurrencyCode", "the currency code (BT-5)")
    need("BR-06", f"{_SELLER}/ram:Name", "the seller's name (BT-27)")
    need("BR-07", f"{_BUYER}/ram:Name", "the buyer's name (BT-44)")
    need("BR-08", f"{_SELLER}/ram:PostalTradeAddress/ram:CountryID",
         "the seller's postal address (BG-5)")  # fmt: skip
    need("BR-09", f"{_SELLER}/ram:PostalTradeAddress/ram:CountryID",
         "the seller's country code (BT-40)")  # fmt: skip
    need("BR-10", f"{_BUYER}/ram:PostalTradeAddress/ram:CountryID",
         "the buyer's postal address (BG-8)")  # fmt: skip
    need("BR-11", f"{_BUYER}/ram:PostalTradeAddress/ram:CountryID",
         "the buyer's country code (BT-55)")  # fmt: skip
    need("BR-12", f"{_TOTALS}/ram:LineTotalAmount", "the sum of line net amounts (BT-106)")
    need("BR-13", f"{_TOTALS}/ram:TaxBasisTotalAmount", "the total without VAT (BT-109)")
    need("BR-14", f"{_TOTALS}/ram:GrandTotalAmount", "the total with VAT (BT-112)")
    need("BR-15", f"{_TOTALS}/ram:DuePayableAmount", "the amount due (BT-115)")

    lines = root.xpath(f"{_TX}/ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    if not lines:
        found.append("BR-16: the invoice has no line (BG-25)")
    line_sum = Decimal(0)
    basis_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    has_standard = False
    for position, line in enumerate(lines, start=1):
        for rule, path, what in (
            ("BR-21", "ram:AssociatedDocumentLineDocument/ram:LineID", "identifier (BT-126)"),
            ("BR-22", "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", "quantity (BT-129)"),
            ("BR-23", "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode",
             "unit of measure (BT-130)"),
            ("BR-24", "ram:SpecifiedLineTradeSettlement"
             "/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
             "net amount (BT-131)"),
            ("BR-25", "ram:SpecifiedTradeProduct/ram:Name", "item name (BT-153)"),
            ("BR-26", "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice"
             "/ram:ChargeAmount", "net price (BT-146)"),
        ):  # fmt: skip
            if not _text(line, path):
                found.append(f"{rule}: line {position} has no {what}")
        amount = _amount(
            line,
            "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation"
            "/ram:LineTotalAmount",
        )
        line_sum += amount or 0
        tax = "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
        if _text(line, f"{tax}/ram:CategoryCode") == "S":
            has_standard = True
            rate = _amount(line, f"{tax}/ram:RateApplicablePercent")
            if rate is None or rate <= 0:
                found.append(f"BR-S-05: line {position} is standard rated with no rate above 0")
            else:
                basis_by_rate[rate] += amount or 0

    totals = {
        name: _amount(root, f"{_TOTALS}/ram:{name}")
        for name in (
            "LineTotalAmount",
            "TaxBasisTotalAmount",
            "TaxTotalAmount",
            "GrandTotalAmount",
            "TotalPrepaidAmount",
            "DuePayableAmount",
            "AllowanceTotalAmount",
            "ChargeTotalAmount",
            "RoundingAmount",
        )
    }
    for name, value in totals.items():
        exponent = value.as_tuple().exponent if value is not None else 0
        if isinstance(exponent, int) and exponent < -2:
            found.append(f"BR-DEC: {name} has more than two decimals")
    line_total = totals["LineTotalAmount"] or Decimal(0)
    basis_total = totals["TaxBasisTotalAmount"] or Decimal(0)
    tax_total = totals["TaxTotalAmount"] or Decimal(0)
    grand = totals["GrandTotalAmount"] or Decimal(0)
    if line_total != line_sum:
        found.append(f"BR-CO-10: sum of line net amounts {line_total} is not {line_sum}")
    allowances = totals["AllowanceTotalAmount"] or Decimal(0)
    charges = totals["ChargeTotalAmount"] or Decimal(0)
    if basis_total != line_total - allowances + charges:
        found.append("BR-CO-13: total without VAT is not the lines less allowances plus charges")
    breakdown = root.xpath(f"{_SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NS)
    category_sum = sum(
        (_amount(b, "ram:CalculatedAmount") or Decimal(0) for b in breakdown), Decimal(0)
    )
    if tax_total != category_sum:
        found.append(f"BR-CO-14: VAT total {tax_total} is not the sum of categories {category_sum}")
    if grand != basis_total + tax_total:
        found.append("BR-CO-15: total with VAT is not the total without VAT plus VAT")
    prepaid = totals["TotalPrepaidAmount"] or Decimal(0)
    rounding = totals["RoundingAmount"] or Decimal(0)
    if totals["DuePayableAmount"] != grand - prepaid + rounding:
        found.append("BR-CO-16: amount due is not the total with VAT less the paid amount")
    standard_rates: set[Decimal] = set()
    for item in breakdown:
        basis = _amount(item, "ram:BasisAmount") or Decimal(0)
        rate = _amount(item, "ram:RateApplicablePercent") or Decimal(0)
        calculated = _amount(item, "ram:CalculatedAmount") or Decimal(0)
        expected = (basis * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if calculated != expected:
            found.append(f"BR-CO-17: VAT at {rate} % is {calculated}, not {expected}")
        if _text(item, "ram:CategoryCode") == "S":
            standard_rates.add(rate)
            if basis != basis_by_rate.get(rate, Decimal(0)):
                found.append(f"BR-S-08: VAT basis at {rate} % is not the sum of its lines")
            if rate <= 0:
                found.append("BR-S-09: a standard-rated VAT category has no rate above 0")
    if has_standard and not standard_rates:
        found.append("BR-S-01: standard-rated lines but no standard-rated VAT breakdown")
    for rate in basis_by_rate:
        if rate not in standard_rates:
            found.append(f"BR-S-08: no VAT breakdown for the lines at {rate} %")
    seller_vat = _text(root, f"{_SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']")
    if has_standard and not seller_vat:
        found.append("BR-S-02: standard-rated lines need the seller's VAT identifier (BT-31)")
    if not (
        seller_vat
        or _text(root, f"{_SELLER}/ram:ID")
        or _text(root, f"{_SELLER}/ram:SpecifiedLegalOrganization/ram:ID")
    ):
        found.append("BR-CO-26: the seller has no identifier, registration or VAT number")
    return found
