"""The statement as a PDF and as CSV, and a line's call log as CSV, in the reader's language."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import phonenumbers

from voipdesk.catalogue.queries import national_format
from voipdesk.consumption import rules
from voipdesk.consumption.queries import CallLine, StatementDetail
from voipdesk.core.i18n import format_date, gettext, translator
from voipdesk.core.money import Money
from voipdesk.core.pdf import DocumentPdf


def duration_text(seconds: int) -> str:
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def local_time(call: CallLine) -> str:
    return call.started_at.astimezone(rules.TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


HOME_REGIONS = frozenset({"FR", "BE", "CH"})  # the countries whose numbers are shown nationally


def shown_number(number: str) -> str:
    """A number as people read it: national format for the operator's countries, international
    for the others, as it came when phonenumbers cannot read it."""
    if not number.startswith("+"):
        return number
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    if phonenumbers.region_code_for_number(parsed) in HOME_REGIONS:
        return national_format(number)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def month_label(month: date, language: str) -> str:
    return format_date(month, language, "MMMM y")


class _Pdf(DocumentPdf):
    def row(self, cells: Iterable[tuple[str, float, str]], bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", 8)
        for text, width, align in cells:
            self.cell(width, 5, self.safe(text), align=align)
        self.ln(5)


def statement_pdf(detail: StatementDetail, operator: str, language: str) -> bytes:
    _ = translator(language)
    statement = detail.statement

    def money(amount: Decimal) -> str:
        return Money(amount).format(language)

    pdf = _Pdf()
    pdf.set_title(_("Consumption statement") + f" {statement.month:%Y-%m}")
    pdf.set_lang(language)
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 14)
    pdf.cell(0, 8, pdf.safe(_("Consumption statement")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 9)
    for text in (
        operator,
        _("Billing group: %(name)s", name=detail.group_name),
        _("Month: %(month)s", month=month_label(statement.month, language)),
        _(
            "Calls: %(count)s, charged time: %(time)s",
            count=statement.calls,
            time=duration_text(statement.seconds),
        ),
        _("Beyond the plan (excl. tax): %(amount)s", amount=money(statement.total)),
    ):
        pdf.cell(0, 5, pdf.safe(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.row(
        [(_("Destination"), 80, "L"), (_("Calls"), 25, "R"), (_("Charged time"), 35, "R"),
         (_("Amount excl. tax"), 40, "R")],
        bold=True,
    )  # fmt: skip
    for destination, count, seconds, price in detail.by_destination:
        pdf.row(
            [(_(rules.DESTINATION_LABELS.get(destination, destination)), 80, "L"),
             (str(count), 25, "R"), (duration_text(seconds), 35, "R"), (money(price), 40, "R")]
        )  # fmt: skip
    pdf.ln(3)
    pdf.row(
        [(_("Date"), 32, "L"), (_("Line"), 28, "L"), (_("Number"), 32, "L"),
         (_("Direction"), 20, "L"), (_("Duration"), 16, "R"), (_("Type"), 30, "L"),
         (_("Price"), 22, "R")],
        bold=True,
    )  # fmt: skip
    for call in detail.calls:
        pdf.row(
            [
                (local_time(call)[:16], 32, "L"),
                (shown_number(call.line_number or ""), 28, "L"),
                (shown_number(call.other_party), 32, "L"),
                (_(rules.DIRECTION_LABELS.get(call.direction, call.direction)), 20, "L"),
                (duration_text(call.duration_seconds), 16, "R"),
                (_(rules.DESTINATION_LABELS.get(call.destination or "", "Other"))[:22], 30, "L"),
                (money(call.price or Decimal(0)), 22, "R"),
            ]
        )
    return bytes(pdf.output())


CSV_COLUMNS = (
    "started_at", "line_number", "direction", "caller", "callee", "disposition",
    "duration_seconds", "destination", "billed_seconds", "included_seconds", "price_excl_tax",
)  # fmt: skip


def calls_csv(calls: Iterable[CallLine]) -> str:
    """One call a row, machine-readable: E.164 numbers, ISO 8601 Paris time, decimal point."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for call in calls:
        writer.writerow(
            [
                call.started_at.astimezone(rules.TIMEZONE).isoformat(),
                call.line_number or "",
                call.direction,
                call.caller,
                call.callee,
                call.disposition,
                call.duration_seconds,
                call.destination or "",
                call.billed_seconds,
                call.included_seconds,
                "" if call.price is None else f"{call.price:.4f}",
            ]
        )
    return out.getvalue()


def statement_filename(month: date, language: str, extension: str) -> str:
    return f"{gettext(language, 'consumption-statement')}-{month:%Y-%m}.{extension}"
