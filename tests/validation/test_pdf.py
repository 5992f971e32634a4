"""The procedure's PDF, read back: the SEPA mandate fields and the list of documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.validation.helpers import pdf_text
from voipdesk.core.i18n import gettext
from voipdesk.validation import pdf as pdf_module
from voipdesk.validation import rules
from voipdesk.validation.pdf import MandateData, render_procedure_pdf

OPERATOR = "VoIPdesk Telecom"


def data(language: str, kind: str, country: str, **overrides: object) -> MandateData:
    values: dict[str, object] = dict(
        language=language,
        operator_name=OPERATOR,
        operator_postal_address="1 rue de la Paix, 75002 Paris, France",
        creditor_identifier="FR72ZZZ123456",
        mandate_reference="VOIP-AB12345-VD-1A2B3C4D",
        customer_handle="ab12345-vd",
        customer_name="Chœur de Lausanne",
        customer_kind=kind,
        country=country,
        holder_name="Zoë Lefèvre",
        holder_address="8 avenue de la Gare, 1003 Lausanne",
        iban="CH9300762011623852957",
        bic="UBSWCHZH80A",
        created_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        destination=rules.destination(
            country,
            postal_address="1 rue de la Paix, 75002 Paris, France",
            email_be="validation-be@voipdesk.example",
            email_ch="validation-ch@voipdesk.example",
        ),
    )
    values.update(overrides)
    return MandateData(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "country"),
    [
        ("individual", "FR"),
        ("company", "BE"),
        ("association", "CH"),
    ],
)
def test_french_pdf_holds_the_mandate_and_the_guides_list(kind: str, country: str) -> None:
    text = pdf_text(render_procedure_pdf(data("fr", kind, country)))
    assert text.startswith("%PDF") is False
    for expected in (
        "Mandat de prélèvement SEPA",
        f"Nom du créancier {OPERATOR}",
        "Identifiant créancier SEPA (ICS) FR72ZZZ123456",
        "Référence unique du mandat VOIP-AB12345-VD-1A2B3C4D",
        "Zoë Lefèvre",
        "IBAN CH93 0076 2011 6238 5295 7",
        "BIC UBSWCHZH80A",
        "Fait à",
        "Signature",
        "Chœur de Lausanne (ab12345-vd)",
    ):
        assert expected in text, expected
    for document in rules.required_documents(kind, country):
        assert gettext("fr", document.text, operator=OPERATOR) in text
    if country == "FR":
        assert "par voie postale" in text and "originaux obligatoires" in text
        assert "1 rue de la Paix, 75002 Paris, France" in text
    else:
        address = (
            "validation-be@voipdesk.example"
            if country == "BE"
            else "validation-ch@voipdesk.example"
        )
        assert f"par e-mail à : {address}" in text


def test_english_pdf_is_translated() -> None:
    text = pdf_text(render_procedure_pdf(data("en", "company", "FR")))
    assert "SEPA direct-debit mandate" in text
    assert "Creditor identifier FR72ZZZ123456" in text
    assert "Mandate reference VOIP-AB12345-VD-1A2B3C4D" in text
    assert "A K-Bis extract less than 3 months old." in text
    assert "by post with the original documents requested (originals are required)" in text
    assert "Mandat de prélèvement" not in text


def test_missing_bank_details_leave_lines_to_fill_in_by_hand() -> None:
    text = pdf_text(
        render_procedure_pdf(
            data(
                "fr", "individual", "FR", holder_name=None, holder_address=None, iban=None, bic=None
            )
        )
    )
    assert "IBAN BIC" in text or ("IBAN" in text and "BIC" in text)
    assert "Zoë" not in text


def test_without_a_unicode_font_the_pdf_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "unicode_font", lambda: None)
    text = pdf_text(render_procedure_pdf(data("fr", "association", "FR")))
    assert "Référence unique du mandat VOIP-AB12345-VD-1A2B3C4D" in text
    assert "Choeur de Lausanne" in text  # œ is outside Latin-1: spelt out


def test_the_unicode_font_is_installed() -> None:
    from tests.conftest import require

    require(
        pdf_module.unicode_font() is not None, "DejaVu Sans", "apt-get install fonts-dejavu-core"
    )
