"""The EN 16931 business rules checked on the Factur-X XML: a good invoice passes (two VAT
rates, a credit line, paid or not), and each rule fails when the XML breaks it (every check
can fail)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import facturx
import pytest
from lxml import etree

from voipdesk.invoices import en16931
from voipdesk.invoices.document import DocumentLine, DocumentTax, InvoiceDocument
from voipdesk.invoices.facturx import NSMAP, cii_xml

SELLER = {
    "legal_name": "VoIPdesk SAS",
    "registration_number": "123456789",
    "vat_number": "FR40123456789",
    "street": "1 rue de la Paix",
    "postal_code": "75002",
    "city": "Paris",
    "country": "FR",
}
BUYER = {"name": "Rousseau Conseil", "address_line1": "12 rue de la République",
         "postal_code": "69002", "city": "Lyon", "country": "FR", "kind": "company"}  # fmt: skip


def _doc(paid: bool = False) -> InvoiceDocument:
    lines = [
        DocumentLine("Ligne SIP Entreprise", Decimal(1), Decimal("9.99"), Decimal("9.99"),
                     Decimal("0.20"), date(2026, 4, 1), date(2026, 4, 30)),
        DocumentLine("Numéro", Decimal(3), Decimal("1.00"), Decimal("3.00"), Decimal("0.20"),
                     None, None),
        DocumentLine("Crédit", Decimal(1), Decimal("-1.00"), Decimal("-1.00"), Decimal("0.20"),
                     None, None),
        DocumentLine("Presse", Decimal(1), Decimal("10.00"), Decimal("10.00"), Decimal("0.055"),
                     None, None),
    ]  # fmt: skip
    taxes = [
        DocumentTax("VAT", Decimal("0.20"), Decimal("11.99"), Decimal("2.40")),
        DocumentTax("VAT", Decimal("0.055"), Decimal("10.00"), Decimal("0.55")),
    ]
    return InvoiceDocument(
        kind="invoice", number="2026-000042", issued_on=date(2026, 4, 1),
        due_on=date(2026, 4, 1), currency="EUR", seller=SELLER, buyer=BUYER,
        buyer_vat_number=None, order_reference="C-2026-000001",
        period=(date(2026, 4, 1), date(2026, 4, 30)), lines=lines, taxes=taxes,
        total_excl_tax=Decimal("21.99"), total_tax=Decimal("2.95"),
        total_incl_tax=Decimal("24.94"), paid=paid, paid_at=None, payment_method="card",
    )  # fmt: skip


@pytest.mark.parametrize("paid", [False, True])
def test_a_good_invoice_passes_the_schema_and_every_rule(paid: bool) -> None:
    xml = cii_xml(_doc(paid))
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="basic")
    assert en16931.problems(xml) == []


def _broken(edit) -> list[str]:  # type: ignore[no-untyped-def]
    root = etree.fromstring(cii_xml(_doc()))
    edit(root)
    return en16931.problems(etree.tostring(root))


def _set(path: str, value: str):  # type: ignore[no-untyped-def]
    def edit(root) -> None:  # type: ignore[no-untyped-def]
        (node,) = root.xpath(path, namespaces=NSMAP)
        node.text = value

    return edit


def _drop(path: str):  # type: ignore[no-untyped-def]
    def edit(root) -> None:  # type: ignore[no-untyped-def]
        for node in root.xpath(path, namespaces=NSMAP):
            node.getparent().remove(node)

    return edit


TOTALS = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
BREAKDOWN = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"


@pytest.mark.parametrize(
    ("rule", "edit"),
    [
        ("BR-01", _drop("//ram:GuidelineSpecifiedDocumentContextParameter")),
        ("BR-02", _set("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID", "")),
        ("BR-05", _drop("//ram:InvoiceCurrencyCode")),
        ("BR-06", _set("//ram:SellerTradeParty/ram:Name", "")),
        ("BR-11", _drop("//ram:BuyerTradeParty/ram:PostalTradeAddress")),
        ("BR-16", _drop("//ram:IncludedSupplyChainTradeLineItem")),
        ("BR-25", _set("(//ram:SpecifiedTradeProduct/ram:Name)[1]", "")),
        ("BR-CO-10", _set(f"{TOTALS}/ram:LineTotalAmount", "22.00")),
        ("BR-CO-14", _set(f"{TOTALS}/ram:TaxTotalAmount", "3.00")),
        ("BR-CO-15", _set(f"{TOTALS}/ram:GrandTotalAmount", "25.00")),
        ("BR-CO-16", _set(f"{TOTALS}/ram:DuePayableAmount", "1.00")),
        ("BR-CO-17", _set(f"({BREAKDOWN}/ram:CalculatedAmount)[1]", "2.39")),
        ("BR-S-02", _drop("//ram:SellerTradeParty/ram:SpecifiedTaxRegistration")),
        ("BR-S-05", _set("(//ram:SpecifiedLineTradeSettlement//ram:RateApplicablePercent)[1]",
                         "0")),
        ("BR-S-08", _set(f"({BREAKDOWN}/ram:BasisAmount)[2]", "9.00")),
        ("BR-DEC", _set(f"{TOTALS}/ram:TaxBasisTotalAmount", "21.990")),
    ],
)  # fmt: skip
def test_each_rule_fails_when_broken(rule: str, edit) -> None:  # type: ignore[no-untyped-def]
    found = _broken(edit)
    assert any(problem.startswith(f"{rule}:") for problem in found), found
