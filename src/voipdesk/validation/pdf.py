"""The procedure as a PDF: the SEPA direct-debit mandate and the list of supporting documents.

Text needs a Unicode TrueType font (accents, œ, €): DejaVu Sans (Debian `fonts-dejavu-core`).
Without it the core Helvetica font is used and characters outside Latin-1 are replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from voipdesk.core.i18n import format_date, translator
from voipdesk.validation import rules

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
    Path("/Library/Fonts/DejaVuSans.ttf"),
)


def unicode_font() -> tuple[Path, Path | None] | None:
    """The regular (and bold if present) DejaVu Sans files, or None."""
    for regular in FONT_CANDIDATES:
        if regular.is_file():
            bold = regular.with_name("DejaVuSans-Bold.ttf")
            return regular, bold if bold.is_file() else None
    return None


@dataclass(frozen=True)
class MandateData:
    """Everything printed on the procedure."""

    language: str
    operator_name: str
    operator_postal_address: str
    creditor_identifier: str
    mandate_reference: str
    customer_handle: str
    customer_name: str
    customer_kind: str
    country: str
    holder_name: str | None
    holder_address: str | None
    iban: str | None
    bic: str | None
    created_at: datetime
    destination: rules.Destination


def format_iban(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


class _Document(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)
        font = unicode_font()
        self.unicode = font is not None
        if font is not None:
            regular, bold = font
            self.add_font("Body", "", str(regular))
            self.add_font("Body", "B", str(bold or regular))
            self.body_family = "Body"
        else:
            self.body_family = "Helvetica"

    def text_for_font(self, text: str) -> str:
        if self.unicode:
            return text
        return (
            text.replace("œ", "oe")
            .replace("Œ", "OE")
            .replace("€", "EUR")
            .encode("latin-1", "replace")
            .decode("latin-1")
        )

    def style(self, size: float, bold: bool = False) -> None:
        self.set_font(self.body_family, "B" if bold else "", size)

    def paragraph(
        self, text: str, size: float = 9.5, bold: bool = False, height: float = 5
    ) -> None:
        self.style(size, bold)
        self.multi_cell(
            0, height, self.text_for_font(text), align="L", new_x="LMARGIN", new_y="NEXT"
        )

    def field(self, label: str, value: str | None, width: float = 68) -> None:
        """A labelled value; an empty value becomes a line to write on by hand."""
        self.style(9.5, True)
        self.cell(width, 7, self.text_for_font(label), new_x="RIGHT", new_y="TOP")
        self.style(9.5)
        if value:
            self.multi_cell(
                0, 7, self.text_for_font(value), align="L", new_x="LMARGIN", new_y="NEXT"
            )
        else:
            x, y = self.get_x(), self.get_y()
            self.line(x, y + 6, self.w - self.r_margin, y + 6)
            self.ln(8)


def render_procedure_pdf(data: MandateData) -> bytes:
    _ = translator(data.language)
    pdf = _Document()
    pdf.set_title(_("VoIP validation procedure"))
    pdf.set_author(data.operator_name)
    pdf.set_creation_date(data.created_at)
    pdf.add_page()

    pdf.paragraph(data.operator_name, size=15, bold=True, height=8)
    pdf.paragraph(_("VoIP validation procedure"), size=13, bold=True, height=7)
    pdf.paragraph(
        _("Customer: %(name)s (%(handle)s)", name=data.customer_name, handle=data.customer_handle)
    )
    pdf.paragraph(_("Made on %(date)s", date=format_date(data.created_at.date(), data.language)))
    pdf.ln(3)

    # --- The SEPA direct-debit mandate ---
    pdf.paragraph(_("SEPA direct-debit mandate"), size=12, bold=True, height=7)
    pdf.paragraph(
        _(
            "By signing this mandate form, you authorise (A) %(creditor)s to send instructions to "
            "your bank to debit your account and (B) your bank to debit your account in accordance "
            "with the instructions from %(creditor)s. As part of your rights, you are entitled to "
            "a "
            "refund from your bank under the terms and conditions of your agreement with your "
            "bank. A refund must be claimed within 8 weeks starting from the date on which your "
            "account was debited.",
            creditor=data.operator_name,
        ),
        size=8.5,
        height=4.2,
    )
    pdf.ln(2)
    pdf.paragraph(_("Creditor"), size=10.5, bold=True, height=6)
    pdf.field(_("Creditor name"), data.operator_name)
    pdf.field(_("Creditor identifier"), data.creditor_identifier)
    pdf.field(_("Creditor address"), data.operator_postal_address)
    pdf.field(_("Mandate reference"), data.mandate_reference)
    pdf.field(_("Type of payment"), _("Recurrent payment"))
    pdf.ln(1)
    pdf.paragraph(_("Debtor (bank account holder)"), size=10.5, bold=True, height=6)
    pdf.field(_("Name"), data.holder_name)
    pdf.field(_("Address"), data.holder_address)
    pdf.field(_("IBAN"), format_iban(data.iban) if data.iban else None)
    pdf.field(_("BIC"), data.bic)
    pdf.ln(1)
    pdf.field(_("Signed at (place)"), None)
    pdf.field(_("Signed on (date)"), None)
    pdf.field(_("Signature"), None)
    pdf.ln(10)

    # --- Documents and where to send them ---
    pdf.add_page()
    pdf.paragraph(_("Supporting documents to send"), size=12, bold=True, height=7)
    kind_label = _(rules.KIND_LABELS[data.customer_kind])
    pdf.paragraph(kind_label, size=10.5, bold=True, height=6)
    for document in rules.required_documents(data.customer_kind, data.country):
        pdf.paragraph("•  " + _(document.text, operator=data.operator_name))
        pdf.ln(1)
    pdf.ln(3)
    pdf.paragraph(_("Where to send them"), size=10.5, bold=True, height=6)
    if data.destination.channel == rules.BY_POST:
        pdf.paragraph(
            _(
                "Send this procedure, dated and signed, by post with the original documents "
                "requested (originals are required) to:"
            )
        )
    else:
        pdf.paragraph(
            _("Send this procedure, dated and signed, and the documents requested by e-mail to:")
        )
    pdf.paragraph(data.destination.address, bold=True)
    pdf.ln(2)
    pdf.paragraph(
        _(
            "Please write your customer handle %(handle)s and the mandate reference %(reference)s "
            "on your letter or e-mail. Our team reviews procedures on business days.",
            handle=data.customer_handle,
            reference=data.mandate_reference,
        )
    )
    return bytes(pdf.output())
