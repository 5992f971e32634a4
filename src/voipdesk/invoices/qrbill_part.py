"""The Swiss QR-bill payment part of a Swiss customer's invoice: its data checked and encoded by
the `qrbill` library (Swiss Payment Standards: creditor on the operator's Swiss account, an
ISO 11649 creditor reference made from the invoice number, the amount due, the debtor), drawn on
a page of the invoice PDF as the standard lays it out (receipt 62 mm, payment part 148 mm, the
46 mm QR code with its Swiss cross)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from voipdesk.core.i18n import translator
from voipdesk.invoices import rules
from voipdesk.invoices.document import InvoiceDocument

PART_TOP = 192.0  # mm: the payment part is the bottom 105 mm of an A4 page


def applies_to(doc: InvoiceDocument) -> bool:
    return str(doc.buyer.get("country") or "") == "CH" and doc.kind == "invoice"


def qr_bill(doc: InvoiceDocument) -> Any:
    """The `qrbill.QRBill` of the invoice (raises ValueError if any field breaks the standard)."""
    from qrbill import QRBill

    seller, buyer = doc.seller, doc.buyer
    due = doc.total_incl_tax if not doc.paid else Decimal(0)
    debtor = None
    if buyer.get("name") and buyer.get("city"):
        debtor = {
            "name": str(buyer["name"])[:70],
            "street": str(buyer.get("address_line1") or "")[:70],
            "pcode": str(buyer.get("postal_code") or "")[:16],
            "city": str(buyer["city"])[:35],
            "country": "CH",
        }
    return QRBill(
        account=str(seller.get("iban_ch") or ""),
        creditor={
            "name": str(seller.get("legal_name") or seller.get("name") or "")[:70],
            "street": str(seller.get("street") or "")[:70],
            "pcode": str(seller.get("postal_code") or "")[:16],
            "city": str(seller.get("city") or "")[:35],
            "country": str(seller.get("country") or "FR"),
        },
        amount=f"{due:.2f}" if due > 0 else None,
        currency=doc.currency if doc.currency in ("CHF", "EUR") else "EUR",
        debtor=debtor,
        reference_number=rules.creditor_reference(doc.number),
        additional_information=f"{doc.number}",
        language="fr" if str(buyer.get("language") or "fr") == "fr" else "en",
    )


def qr_payload(doc: InvoiceDocument) -> str:
    return str(qr_bill(doc).qr_data())


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR code's modules, as the standard asks (error correction M, no quiet zone)."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def draw(pdf: Any, doc: InvoiceDocument, language: str) -> None:
    """Adds a page whose bottom 105 mm is the payment part (receipt and payment part)."""
    _ = translator(language)
    bill = qr_bill(doc)
    payload = str(bill.qr_data())
    pdf.add_page()
    pdf.set_auto_page_break(False)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.line(0, PART_TOP, 210, PART_TOP)
    pdf.line(62, PART_TOP, 62, 297)
    pdf.set_dash_pattern()
    seller = doc.seller
    amount = f"{doc.total_incl_tax:.2f}" if not doc.paid else ""
    creditor = [
        str(bill.account)[:4]
        + " "
        + " ".join(str(bill.account)[i : i + 4] for i in range(4, len(str(bill.account)), 4)),
        str(seller.get("legal_name") or seller.get("name") or ""),
        str(seller.get("street") or ""),
        f"{seller.get('postal_code', '')} {seller.get('city', '')}",
    ]
    reference = rules.creditor_reference(doc.number)
    debtor = [
        str(doc.buyer.get("name") or ""),
        str(doc.buyer.get("address_line1") or ""),
        f"{doc.buyer.get('postal_code', '')} {doc.buyer.get('city', '')}",
    ]

    def block(x: float, y: float, width: float, title: str, lines: list[str]) -> float:
        pdf.set_xy(x, y)
        pdf.set_font(pdf.family, "B", 6)
        pdf.cell(width, 3, pdf.safe(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 8)
        for line in lines:
            pdf.set_x(x)
            pdf.cell(width, 3.5, pdf.safe(line), new_x="LMARGIN", new_y="NEXT")
        return float(pdf.get_y()) + 2

    # Receipt (left, 62 mm)
    pdf.set_xy(5, PART_TOP + 5)
    pdf.set_font(pdf.family, "B", 11)
    pdf.cell(52, 6, pdf.safe(_("Receipt")))
    y = block(5, PART_TOP + 12, 52, _("Account / Payable to"), creditor)
    y = block(5, y, 52, _("Reference"), [reference])
    block(5, y, 52, _("Payable by"), debtor)
    block(5, PART_TOP + 68, 20, _("Currency"), [doc.currency])
    block(22, PART_TOP + 68, 30, _("Amount"), [amount])

    # Payment part (right, 148 mm): title, QR code, amount; details on the right
    pdf.set_xy(67, PART_TOP + 5)
    pdf.set_font(pdf.family, "B", 11)
    pdf.cell(51, 6, pdf.safe(_("Payment part")))
    matrix = qr_matrix(payload)
    size = 46.0
    module = size / len(matrix)
    top, left = PART_TOP + 17, 67.0
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                pdf.rect(left + col_index * module, top + row_index * module, module, module, "F")
    # The Swiss cross in the middle (7 mm): a black square with a white cross.
    cross = 7.0
    cx, cy = left + size / 2 - cross / 2, top + size / 2 - cross / 2
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(cx - 0.5, cy - 0.5, cross + 1, cross + 1, "F")
    pdf.set_fill_color(0, 0, 0)
    pdf.rect(cx, cy, cross, cross, "F")
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(cx + cross * 0.42, cy + cross * 0.18, cross * 0.16, cross * 0.64, "F")
    pdf.rect(cx + cross * 0.18, cy + cross * 0.42, cross * 0.64, cross * 0.16, "F")
    block(67, PART_TOP + 68, 20, _("Currency"), [doc.currency])
    block(87, PART_TOP + 68, 30, _("Amount"), [amount])
    y = block(118, PART_TOP + 5, 87, _("Account / Payable to"), creditor)
    y = block(118, y, 87, _("Reference"), [reference])
    y = block(118, y, 87, _("Additional information"), [doc.number])
    block(118, y, 87, _("Payable by"), debtor)
