"""The base of voipdesk's PDF documents (invoices, statements): A4, 15 mm margins, DejaVu Sans
when the system has it (every character, € included), else Helvetica with text made Latin-1."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


class DocumentPdf(FPDF):
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
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=15)

    def safe(self, text: str) -> str:
        """The text as the font can draw it (the Latin-1 fallback spells € and spaces out)."""
        if self.unicode:
            return text
        return (
            text.replace("€", "EUR")
            .replace("\u202f", " ")
            .replace("\xa0", " ")
            .replace("−", "-")
            .encode("latin-1", "replace")
            .decode("latin-1")
        )
