"""The invoice as a PDF an accountant accepts, rendered when downloaded from what was stored at
issue (`document.invoice_document`), in the customer's language throughout:

- the seller's legal identity (name, legal form and capital, address, SIREN and registry, VAT
  number) and the customer's (address, registration and VAT numbers for companies);
- the invoice and due dates, the order or period it bills;
- each line with its period, quantity, unit price, VAT rate and amount; VAT per rate; totals;
- how it was or is to be paid, and its status; the late-payment mentions French law requires;
- for Swiss customers, the QR-bill payment part (`qrbill_part`).

Text is laid out in table cells of fixed widths (fpdf2 wraps it inside its cell), so that no two
text boxes overlap whatever the language or the amounts. DejaVu Sans is used when installed
(accents, €); otherwise the core Helvetica font with text reduced to Latin-1.
"""

from __future__ import annotations

from decimal import Decimal

from fpdf.fonts import FontFace
from sqlalchemy.orm import Session

from voipdesk.core.i18n import format_date, translator
from voipdesk.core.money import Money
from voipdesk.core.pdf import DocumentPdf
from voipdesk.invoices.document import InvoiceDocument, invoice_document
from voipdesk.invoices.models import Invoice

WIDTH = 180  # A4 less 15 mm margins
PAYMENT_LABELS = {
    "card": "by card",
    "sepa_debit": "by SEPA direct debit",
    "bank_transfer": "by bank transfer",
}
COUNTRY_NAMES = {"FR": "France", "BE": "Belgium", "CH": "Switzerland", "CA-QC": "Québec (Canada)"}


class _InvoicePdf(DocumentPdf):
    def text_block(self, text: str, size: float = 9, bold: bool = False, height: float = 4.5):
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(WIDTH, height, self.safe(text), new_x="LMARGIN", new_y="NEXT")


def invoice_filename(number: str, language: str, kind: str = "invoice") -> str:
    """The download's name, in the customer's language ("facture-2026-000001.pdf")."""
    _ = translator(language)
    stem = _("credit-note") if kind == "credit_note" else _("invoice")
    return f"{stem}-{number}.pdf"


def render_invoice_pdf(session: Session, invoice: Invoice, language: str) -> bytes:
    """The invoice's PDF; for a French customer a Factur-X (the XML inside), for a Swiss one
    with the QR-bill payment part."""
    from voipdesk.invoices import facturx

    doc = invoice_document(session, invoice)
    pdf = render_document_pdf(doc, language)
    if facturx.applies_to(doc):
        pdf = facturx.embed(pdf, doc)
    return pdf


def render_document_pdf(doc: InvoiceDocument, language: str) -> bytes:
    _ = translator(language)
    pdf = _InvoicePdf()
    pdf.set_title(f"{doc.seller.get('name', '')} {doc.number}")
    pdf.set_lang(language)
    pdf.add_page()

    def money(amount: Decimal) -> str:
        return Money(amount, doc.currency).format(language)

    def day(value) -> str:  # type: ignore[no-untyped-def]
        return format_date(value, language) if value else ""

    def short(value) -> str:  # type: ignore[no-untyped-def]
        return format_date(value, language, "short") if value else ""

    seller, buyer = doc.seller, doc.buyer
    title = _("Credit note %(number)s") if doc.kind == "credit_note" else _("Invoice %(number)s")
    heading = FontFace(emphasis="BOLD")

    # --- parties: seller on the left, invoice facts on the right -------------------------------
    seller_lines = [
        seller.get("legal_name") or seller.get("name", ""),
        seller.get("street") or seller.get("address", ""),
        " ".join(filter(None, (seller.get("postal_code"), seller.get("city")))) or "",
        _("%(form)s with a capital of %(capital)s")
        % {"form": seller.get("legal_form", ""), "capital": seller.get("share_capital", "")}
        if seller.get("legal_form")
        else "",
        _("SIREN %(number)s · %(registry)s")
        % {"number": seller.get("registration_number", ""), "registry": seller.get("registry", "")}
        if seller.get("registration_number")
        else "",
        _("VAT number: %(number)s") % {"number": seller.get("vat_number", "")}
        if seller.get("vat_number")
        else "",
        seller.get("email", ""),
    ]
    facts = [
        (_("Date of issue"), day(doc.issued_on)),
        (_("Due date"), day(doc.due_on)),
        (_("Customer handle"), str(buyer.get("handle") or "")),
    ]
    if doc.order_reference:
        facts.append((_("Purchase order"), doc.order_reference))
    if doc.period:
        facts.append((_("Period"), f"{day(doc.period[0])} – {day(doc.period[1])}"))
    if doc.related_invoice:
        facts.append((_("Credits invoice"), doc.related_invoice))

    pdf.set_font(pdf.family, "B", 15)
    pdf.cell(WIDTH, 9, pdf.safe(title % {"number": doc.number}), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(pdf.family, "", 8.5)
    with pdf.table(
        col_widths=(95, 38, 47),
        width=WIDTH,
        first_row_as_headings=False,
        borders_layout="NONE",
        line_height=4.2,
        text_align=("LEFT", "LEFT", "RIGHT"),
    ) as table:
        rows = max(len(facts), 1)
        identity = "\n".join(pdf.safe(line) for line in seller_lines if line)
        for index in range(rows):
            row = table.row()
            if index == 0:
                row.cell(identity, rowspan=rows)
            label, value = facts[index] if index < len(facts) else ("", "")
            row.cell(pdf.safe(label), style=heading)
            row.cell(pdf.safe(value))
    pdf.ln(4)

    # --- the customer ------------------------------------------------------------------------
    customer_lines = [
        str(buyer.get("name") or ""),
        str(buyer.get("address_line1") or ""),
        str(buyer.get("address_line2") or ""),
        " ".join(str(buyer.get(k) or "") for k in ("postal_code", "city")).strip(),
        _(COUNTRY_NAMES.get(str(buyer.get("country") or ""), str(buyer.get("country") or ""))),
    ]
    if buyer.get("registration_number") and buyer.get("kind") in ("company", "association"):
        customer_lines.append(
            _("Registration number: %(number)s") % {"number": buyer["registration_number"]}
        )
    if doc.buyer_vat_number:
        customer_lines.append(_("VAT number: %(number)s") % {"number": doc.buyer_vat_number})
    with pdf.table(
        col_widths=(95, 85), width=WIDTH, first_row_as_headings=False, borders_layout="NONE",
        line_height=4.2,
    ) as table:  # fmt: skip
        row = table.row()
        row.cell(pdf.safe(_("Billed to")), style=heading)
        row.cell(pdf.safe("\n".join(line for line in customer_lines if line)))
    pdf.ln(4)

    # --- lines ---------------------------------------------------------------------------------
    pdf.set_font(pdf.family, "", 8)
    with pdf.table(
        col_widths=(55, 38, 12, 25, 15, 35),
        width=WIDTH,
        line_height=4.2,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 243)),
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        header = table.row()
        for title_text in (
            _("Description"),
            _("Period"),
            _("Qty"),
            _("Unit price excl. tax"),
            _("VAT"),
            _("Amount excl. tax"),
        ):
            header.cell(pdf.safe(title_text))
        for line in doc.lines:
            row = table.row()
            row.cell(pdf.safe(line.description))
            period = (
                f"{short(line.period_start)} – {short(line.period_end)}"
                if line.period_start and line.period_end
                else ""
            )
            row.cell(pdf.safe(period))
            row.cell(f"{line.quantity.normalize():f}")
            row.cell(pdf.safe(Money(line.unit_price, doc.currency).format(language)))
            row.cell(_percent(line.vat_rate))
            row.cell(pdf.safe(money(line.amount)))
    pdf.ln(3)

    # --- VAT per rate and totals ---------------------------------------------------------------
    with pdf.table(
        col_widths=(60, 40, 40, 40),
        width=WIDTH,
        line_height=4.5,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        header = table.row()
        for title_text in (_("Tax"), _("Rate"), _("Base excl. tax"), _("Tax amount")):
            header.cell(pdf.safe(title_text))
        for tax in doc.taxes:
            row = table.row()
            row.cell(pdf.safe(_(tax.label)))
            row.cell(_percent(tax.rate))
            row.cell(pdf.safe(money(tax.base)))
            row.cell(pdf.safe(money(tax.amount)))
    pdf.ln(2)
    with pdf.table(
        col_widths=(120, 60), width=WIDTH, first_row_as_headings=False, line_height=5.5,
        text_align=("RIGHT", "RIGHT"), borders_layout="NONE",
    ) as table:  # fmt: skip
        for label, amount, bold in (
            (_("Total excl. tax"), doc.total_excl_tax, False),
            (_("Total tax"), doc.total_tax, False),
            (_("Total incl. tax"), doc.total_incl_tax, True),
        ):
            row = table.row()
            style = heading if bold else None
            row.cell(pdf.safe(label), style=style)
            row.cell(pdf.safe(money(amount)), style=style)
    pdf.ln(3)

    # --- payment and legal mentions ------------------------------------------------------------
    if doc.kind == "credit_note":
        pdf.text_block(_("This credit note is deducted from the amount due or refunded."), 9)
    elif doc.paid:
        method = PAYMENT_LABELS.get(doc.payment_method or "")
        when = day(doc.paid_at.date()) if doc.paid_at else ""
        status = (
            _("Invoice paid on %(date)s, %(method)s.") % {"date": when, "method": _(method)}
            if method
            else _("Invoice paid on %(date)s.") % {"date": when}
        )
        pdf.text_block(status, 9.5, bold=True)
    else:
        pdf.text_block(
            _("To pay by %(date)s: %(amount)s incl. tax.")
            % {"date": day(doc.due_on), "amount": money(doc.total_incl_tax)},
            9.5,
            bold=True,
        )
        pdf.text_block(
            _(
                "Pay from your customer space by card or direct debit, or by bank transfer to "
                "%(name)s, IBAN %(iban)s, BIC %(bic)s, quoting the reference %(reference)s."
            )
            % {
                "name": seller.get("name", ""),
                "iban": seller.get("iban", ""),
                "bic": seller.get("bic", ""),
                "reference": f"INV-{doc.number}",
            },
            8.5,
        )
    pdf.ln(2)
    pdf.text_block(
        _(
            "No discount for early payment. Late payment: penalties at three times the French "
            "legal interest rate, and for professional customers a fixed recovery fee of 40 € "
            "(French Commercial Code, articles L441-10 and D441-5)."
        ),
        7.5,
        height=3.8,
    )
    for note in doc.notes:
        pdf.text_block(note, 7.5, height=3.8)
    from voipdesk.invoices import qrbill_part

    if qrbill_part.applies_to(doc):
        qrbill_part.draw(pdf, doc, language)
    return bytes(pdf.output())


def _percent(rate: Decimal | None) -> str:
    if rate is None:
        return "–"
    return f"{(rate * 100).normalize():f} %"
