"""The invoice as a PDF, rendered when downloaded from what was stored at issue (so it never
changes): operator and customer, lines with their periods, the tax breakdown, the totals.

DejaVu Sans is used when installed (accents, €); otherwise the core Helvetica font with text
reduced to Latin-1.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.i18n import format_date, translator
from voipdesk.core.money import Money
from voipdesk.invoices.models import Invoice, InvoiceLine, InvoiceParty, InvoiceTax, cents_to_amount

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


class _InvoicePdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.unicode = False
        for regular in FONT_CANDIDATES:
            if regular.is_file():
                self.add_font("Body", "", str(regular))
                bold = regular.with_name("DejaVuSans-Bold.ttf")
                self.add_font("Body", "B", str(bold if bold.is_file() else regular))
                self.unicode = True
                break
        self.family = "Body" if self.unicode else "Helvetica"

    def safe(self, text: str) -> str:
        if self.unicode:
            return text
        return (
            text.replace("€", "EUR")
            .replace("\u202f", " ")
            .replace("\xa0", " ")
            .encode("latin-1", "replace")
            .decode("latin-1")
        )

    def write_line(
        self, text: str, size: float = 10, bold: bool = False, height: float = 5
    ) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, height, self.safe(text), new_x="LMARGIN", new_y="NEXT")


def render_invoice_pdf(session: Session, invoice: Invoice, language: str) -> bytes:
    _ = translator(language)
    party = session.get(InvoiceParty, invoice.id)
    customer = party.customer if party else {}
    operator = party.operator if party else {}
    lines = session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.id)
    ).all()
    taxes = session.scalars(
        select(InvoiceTax).where(InvoiceTax.invoice_id == invoice.id).order_by(InvoiceTax.id)
    ).all()

    def money(cents: int) -> str:
        return Money(cents_to_amount(cents), invoice.currency).format(language)

    pdf = _InvoicePdf()
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.write_line(operator.get("name", ""), 14, bold=True, height=7)
    pdf.write_line(operator.get("address", ""))
    if operator.get("vat_number"):
        pdf.write_line(_("VAT number: %(number)s") % {"number": operator["vat_number"]})
    pdf.ln(4)
    pdf.write_line(_("Invoice %(number)s") % {"number": invoice.number}, 16, bold=True, height=8)
    pdf.write_line(_("Issued on %(date)s") % {"date": format_date(invoice.issued_on, language)})
    pdf.write_line(_("Paid") if invoice.status == "paid" else _("To pay"), bold=True)
    pdf.ln(3)
    pdf.write_line(_("Customer"), bold=True)
    for key in ("name", "handle", "address_line1", "address_line2"):
        if customer.get(key):
            pdf.write_line(str(customer[key]))
    pdf.write_line(
        " ".join(str(customer.get(key) or "") for key in ("postal_code", "city", "country"))
    )
    pdf.ln(4)

    widths = (90, 40, 15, 45)
    pdf.set_font(pdf.family, "B", 9)
    for width, title in zip(
        widths, (_("Description"), _("Period"), _("Qty"), _("Amount excl. tax")), strict=True
    ):
        pdf.cell(width, 6, pdf.safe(title), border="B")
    pdf.ln()
    pdf.set_font(pdf.family, "", 9)
    for line in lines:
        period = ""
        if line.period_start and line.period_end:
            start = format_date(line.period_start, language)
            period = f"{start} - {format_date(line.period_end, language)}"
        y = pdf.get_y()
        pdf.multi_cell(widths[0], 5, pdf.safe(line.description), new_x="RIGHT", new_y="TOP")
        pdf.set_xy(pdf.l_margin + widths[0], y)
        pdf.cell(widths[1], 5, pdf.safe(period))
        pdf.cell(widths[2], 5, pdf.safe(f"{line.quantity.normalize():f}"))
        pdf.cell(widths[3], 5, pdf.safe(money(line.amount_excl_tax_cents)), align="R")
        pdf.ln(6)
    pdf.ln(3)
    pdf.write_line(_("Tax breakdown"), bold=True)
    for tax in taxes:
        rate = f"{(tax.rate * 100).normalize():f} %"
        pdf.write_line(
            f"{_(tax.label)} {rate}: {_('base')} {money(tax.base_cents)}, {money(tax.tax_cents)}"
        )
    pdf.ln(2)
    pdf.write_line(f"{_('Total excl. tax')}: {money(invoice.total_excl_tax_cents)}", bold=True)
    pdf.write_line(f"{_('Tax')}: {money(invoice.total_tax_cents)}", bold=True)
    pdf.write_line(f"{_('Total incl. tax')}: {money(invoice.total_incl_tax_cents)}", 12, bold=True)
    return bytes(pdf.output())
