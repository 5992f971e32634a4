"""Invoices an accountant accepts: the PDF checked by layout (no two words overlap) and content
in French and English, the Factur-X XML of a French company validated against its schema, the
Swiss QR-bill payload parsed back."""

from __future__ import annotations

import io
from datetime import date
from itertools import combinations

import facturx
import pdfplumber
import pytest
from sqlalchemy import select

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing.renewal import run_renewal
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.invoices import en16931, qrbill_part
from voipdesk.invoices.document import invoice_document
from voipdesk.invoices.facturx import BASIC as BASIC_ID
from voipdesk.invoices.models import Invoice
from voipdesk.invoices.rules import creditor_reference, customer_vat_number

API = "/api/v1"


def _invoice(client, *, language: str, kind: str = "individual", country: str = "FR"):  # type: ignore[no-untyped-def]
    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    account = make_account(platform, language=language, kind=kind, country=country)
    deliver(platform, account.id, lines=[("sip-entreprise", 4), ("sip-decouverte", 1)], aliases=3)
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.account_id == account.id)).one()
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}"}
    return platform, account, invoice, headers


def _words(pdf: bytes) -> list[list[dict]]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_words(keep_blank_chars=False) for page in document.pages]


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def assert_no_overlap(pdf: bytes) -> None:
    """No two words share any area (0.3 pt of tolerance for glyph bounding boxes)."""
    for page_words in _words(pdf):
        for a, b in combinations(page_words, 2):
            overlap_x = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            overlap_y = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            assert not (overlap_x > 0.3 and overlap_y > 0.3), (a["text"], b["text"])
        for word in page_words:  # and nothing runs off the page
            assert word["x0"] >= 0 and word["x1"] <= 595.3, word["text"]


def test_a_french_company_invoice_has_every_mention_and_passes_factur_x(client):  # type: ignore[no-untyped-def]
    _platform, account, invoice, headers = _invoice(client, language="fr", kind="company")
    answer = client.get(f"{API}/me/invoices/{invoice.id}/pdf", headers=headers)
    assert answer.status_code == 200
    assert f'filename="facture-{invoice.number}.pdf"' in answer.headers["content-disposition"]
    pdf = answer.content
    assert_no_overlap(pdf)
    text = " ".join(_text(pdf).split())
    vat = customer_vat_number("FR", "company", account.registration_number)
    assert vat is not None
    for expected in (
        f"Facture {invoice.number}",
        "VoIPdesk Telecom SAS",
        "SAS au capital de 10 000 €",
        "SIREN 303265045 · RCS Paris",
        "N° de TVA : FR40303265045",
        f"N° de TVA : {vat}",
        "Date d'émission 1 avril 2026",
        "Date d'échéance 1 avril 2026",
        "Période 1 avril 2026 – 30 avril 2026",
        "Prix unitaire",
        "20 %",
        "Total HT",
        "Total TTC",
        "À payer avant le 1 avril 2026",
        "Pas d'escompte pour paiement anticipé",
        "40 €",
    ):
        assert expected in text, expected
    assert "VAT" not in text and "Paid" not in text  # nothing left in English
    # The Factur-X XML inside the PDF, valid against the BASIC schema.
    name, xml = facturx.get_facturx_xml_from_pdf(pdf)
    assert name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="basic")
    # And against the EN 16931 business rules voipdesk checks (invoices/en16931.py).
    assert en16931.problems(xml) == []
    assert BASIC_ID in xml.decode()
    body = xml.decode()
    assert f"<ram:ID>{invoice.number}</ram:ID>" in body
    assert f'<ram:ID schemeID="VA">{vat}</ram:ID>' in body
    assert "<ram:GrandTotalAmount>" + f"{invoice.total_incl_tax:.2f}" in body
    # The JSON names the tax as the caller reads it.
    detail = client.get(
        f"{API}/me/invoices/{invoice.id}", headers={**headers, "Accept-Language": "fr"}
    ).json()
    assert detail["taxes"][0]["label"] == "TVA"


def test_an_english_invoice_is_english_throughout(client):  # type: ignore[no-untyped-def]
    _platform, _account, invoice, headers = _invoice(client, language="en")
    answer = client.get(f"{API}/me/invoices/{invoice.id}/pdf", headers=headers)
    assert f'filename="invoice-{invoice.number}.pdf"' in answer.headers["content-disposition"]
    assert_no_overlap(answer.content)
    text = " ".join(_text(answer.content).split())
    for expected in (f"Invoice {invoice.number}", "Due date", "VAT", "No discount for early"):
        assert expected in text, expected
    for french in ("Facture", "TVA", "Payé", "échéance"):
        assert french not in text, french
    assert "VAT number" not in text.split("Billed to")[1]  # no VAT number for an individual


def test_a_swiss_invoice_carries_a_qr_bill_whose_payload_parses_back(client):  # type: ignore[no-untyped-def]
    platform, account, invoice, headers = _invoice(client, language="fr", country="CH")
    with platform.session() as session:
        doc = invoice_document(session, invoice)
    payload = qrbill_part.qr_payload(doc)
    fields = payload.split("\r\n")
    assert fields[:3] == ["SPC", "0200", "1"]
    assert fields[3] == platform.settings.operator_iban_ch
    # A Swiss customer is sold and invoiced in francs, and the QR-bill asks for francs.
    assert invoice.currency == "CHF"
    assert fields[18] == f"{invoice.total_incl_tax:.2f}" and fields[19] == "CHF"
    assert fields[27] == "SCOR" and fields[28] == creditor_reference(invoice.number)
    assert fields[29] == invoice.number and fields[30] == "EPD"
    assert account.city in fields
    pdf = client.get(f"{API}/me/invoices/{invoice.id}/pdf", headers=headers).content
    assert_no_overlap(pdf)
    text = _text(pdf)
    assert "Section paiement" in text and "Récépissé" in text
    assert creditor_reference(invoice.number) in text
    # The QR code drawn is the payload's: as many dark modules as the code of that payload.
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        squares = [r for r in document.pages[-1].rects if r["width"] < 3]  # modules, in points
    dark = sum(sum(row) for row in qrbill_part.qr_matrix(payload))
    assert len(squares) == dark  # each dark module drawn once (the cross is drawn over them)


@pytest.mark.parametrize(
    ("country", "kind", "registration", "expected"),
    [
        ("FR", "company", "303 265 045 00018", "FR40303265045"),
        ("FR", "individual", "303265045", None),
        ("BE", "company", "0403.170.701", "BE0403170701"),
        ("CH", "association", "CHE-109.322.551", "CHE-109.322.551 MWST"),
        ("CA-QC", "company", "1234567890", None),
    ],
)
def test_customer_vat_numbers(country, kind, registration, expected) -> None:  # type: ignore[no-untyped-def]
    assert customer_vat_number(country, kind, registration) == expected
