"""Factur-X (profile BASIC, EN 16931 compliant) for French customers: the invoice's data as a
UN/CEFACT CII XML, embedded in its PDF by the `factur-x` library (PDF/A-3 with the XML as an
associated file). The XML is checked against the profile's XSD when it is made."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree

from voipdesk.invoices.document import InvoiceDocument

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
BASIC = "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"
TYPE_CODES = {"invoice": "380", "credit_note": "381"}
# UNTDID 4461 payment means: card, SEPA direct debit, SEPA credit transfer.
PAYMENT_MEANS = {"card": "48", "sepa_debit": "59", "bank_transfer": "58"}
COUNTRY_ISO = {"CA-QC": "CA"}


def applies_to(doc: InvoiceDocument) -> bool:
    """French customers get a Factur-X (VAT invoices of the French e-invoicing reform)."""
    return str(doc.buyer.get("country") or "") == "FR"


def _el(parent: Any, tag: str, text: str | None = None, **attributes: str) -> Any:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", **attributes)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _date(parent: Any, tag: str, value: Any) -> None:
    holder = _el(parent, tag)
    _el(holder, "udt:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _period(parent: Any, start: Any, end: Any) -> None:
    period = _el(parent, "ram:BillingSpecifiedPeriod")
    _date(period, "ram:StartDateTime", start)
    _date(period, "ram:EndDateTime", end)


def _address(party: Any, street: str, postcode: str, city: str, country: str) -> None:
    address = _el(party, "ram:PostalTradeAddress")
    if postcode:
        _el(address, "ram:PostcodeCode", postcode)
    if street:
        _el(address, "ram:LineOne", street)
    if city:
        _el(address, "ram:CityName", city)
    _el(address, "ram:CountryID", COUNTRY_ISO.get(country, country))


def _vat_rate_percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'))}"


def cii_xml(doc: InvoiceDocument) -> bytes:
    """The CII XML of the invoice (BASIC profile)."""
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    guideline = _el(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _el(guideline, "ram:ID", BASIC)

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", doc.number)
    _el(header, "ram:TypeCode", TYPE_CODES[doc.kind])
    _date(header, "ram:IssueDateTime", doc.issued_on)
    note = _el(header, "ram:IncludedNote")
    _el(
        note,
        "ram:Content",
        "Pénalités de retard : trois fois le taux d'intérêt légal ; indemnité forfaitaire pour "
        "frais de recouvrement : 40 EUR (art. L441-10 et D441-5 du Code de commerce). "
        "Pas d'escompte pour paiement anticipé.",
    )
    _el(note, "ram:SubjectCode", "PMD")

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for position, line in enumerate(doc.lines, start=1):
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(position))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        price = _el(agreement, "ram:NetPriceProductTradePrice")
        _el(price, "ram:ChargeAmount", f"{line.unit_price.normalize():f}")
        delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
        _el(delivery, "ram:BilledQuantity", f"{line.quantity.normalize():f}", unitCode="C62")
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", "S")
        _el(tax, "ram:RateApplicablePercent", _vat_rate_percent(line.vat_rate or Decimal(0)))
        if line.period_start and line.period_end:
            _period(settlement, line.period_start, line.period_end)
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _amount(line.amount))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    seller_data, buyer_data = doc.seller, doc.buyer
    seller = _el(agreement, "ram:SellerTradeParty")
    _el(seller, "ram:Name", str(seller_data.get("legal_name") or seller_data.get("name") or ""))
    if seller_data.get("registration_number"):
        legal = _el(seller, "ram:SpecifiedLegalOrganization")
        _el(legal, "ram:ID", str(seller_data["registration_number"]), schemeID="0002")
    _address(
        seller,
        str(seller_data.get("street") or ""),
        str(seller_data.get("postal_code") or ""),
        str(seller_data.get("city") or ""),
        str(seller_data.get("country") or "FR"),
    )
    if seller_data.get("vat_number"):
        registration = _el(seller, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", str(seller_data["vat_number"]), schemeID="VA")
    buyer = _el(agreement, "ram:BuyerTradeParty")
    _el(buyer, "ram:Name", str(buyer_data.get("name") or ""))
    if buyer_data.get("registration_number") and buyer_data.get("kind") != "individual":
        legal = _el(buyer, "ram:SpecifiedLegalOrganization")
        siren = "".join(ch for ch in str(buyer_data["registration_number"]) if ch.isdigit())
        _el(legal, "ram:ID", siren[:9], schemeID="0002")
    _address(
        buyer,
        str(buyer_data.get("address_line1") or ""),
        str(buyer_data.get("postal_code") or ""),
        str(buyer_data.get("city") or ""),
        str(buyer_data.get("country") or "FR"),
    )
    if doc.buyer_vat_number:
        registration = _el(buyer, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", doc.buyer_vat_number, schemeID="VA")
    if doc.order_reference:
        order = _el(agreement, "ram:BuyerOrderReferencedDocument")
        _el(order, "ram:IssuerAssignedID", doc.order_reference)

    _el(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", f"INV-{doc.number}")
    _el(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _el(means, "ram:TypeCode", PAYMENT_MEANS.get(doc.payment_method or "", "58"))
    if (doc.payment_method or "bank_transfer") == "bank_transfer" and seller_data.get("iban"):
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        _el(account, "ram:IBANID", str(seller_data["iban"]))
    for tax_line in doc.taxes:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _amount(tax_line.amount))
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:BasisAmount", _amount(tax_line.base))
        _el(tax, "ram:CategoryCode", "S")
        _el(tax, "ram:RateApplicablePercent", _vat_rate_percent(tax_line.rate))
    if doc.period:
        _period(settlement, doc.period[0], doc.period[1])
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _date(terms, "ram:DueDateDateTime", doc.due_on)
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _amount(sum((li.amount for li in doc.lines), Decimal(0))))
    _el(totals, "ram:TaxBasisTotalAmount", _amount(doc.total_excl_tax))
    _el(totals, "ram:TaxTotalAmount", _amount(doc.total_tax), currencyID=doc.currency)
    _el(totals, "ram:GrandTotalAmount", _amount(doc.total_incl_tax))
    prepaid = doc.total_incl_tax if doc.paid else Decimal(0)
    _el(totals, "ram:TotalPrepaidAmount", _amount(prepaid))
    _el(totals, "ram:DuePayableAmount", _amount(doc.total_incl_tax - prepaid))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def embed(pdf: bytes, doc: InvoiceDocument) -> bytes:
    """The PDF with its Factur-X XML attached (checked against the BASIC XSD on the way)."""
    from facturx import generate_from_binary

    return bytes(
        generate_from_binary(
            pdf,
            cii_xml(doc),
            flavor="factur-x",
            level="basic",
            check_xsd=True,
            pdf_metadata={
                "author": str(doc.seller.get("name") or ""),
                "keywords": "Factur-X",
                "title": f"{doc.seller.get('name', '')} {doc.number}",
                "subject": f"Factur-X {doc.number}",
            },
            lang="fr-FR",
        )
    )
