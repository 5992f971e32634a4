"""The staff's review of a VoIP procedure in a real browser (Chromium through Playwright)."""

from __future__ import annotations

import re

import pytest

from tests.validation.conftest import make_account
from tests.validation.helpers import request
from voipdesk.accounts.models import Account
from voipdesk.validation import actions, rules

web = pytest.importorskip("tests.web.conftest")
live_server = web.live_server
browser_page = web.browser_page

pytestmark = pytest.mark.browser
PASSWORD = "Correct-Horse-Battery-42!"


def test_staff_records_documents_rejects_then_approves(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    platform = live_server.platform
    customer = make_account(
        platform, kind="association", country="CH", organisation_name="Chœur de Lausanne"
    )
    staff = make_account(platform, first_name="Sam", last_name="Operator")
    with platform.transaction() as session:
        row = session.get(Account, staff.id)
        assert row is not None
        row.is_staff = True
    procedure = request(
        platform,
        customer,
        actions.ProcedureForm(
            holder_name="Chœur de Lausanne",
            holder_address="Avenue de la Gare 8, 1003 Lausanne",
            iban="CH93 0076 2011 6238 5295 7",
            bic="UBSWCHZH80A",
        ),
    )

    page = browser_page
    page.goto("/login")
    page.get_by_label("Identifiant client ou e-mail").fill(staff.email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/backoffice/procedures")
    page.get_by_role("heading", name="Procédures VoIP à traiter").wait_for()
    row = page.locator("#procedures tbody tr", has_text=customer.handle)
    assert "En attente de vos documents" in row.inner_text()
    row.get_by_role("link", name="Chœur de Lausanne").click()
    page.get_by_role("heading", name=re.compile(procedure.mandate_reference)).wait_for()

    # The president's statement is missing: recorded as invalid, then sent back to the customer.
    # All the documents received are recorded in one form, with one button.
    codes = rules.document_codes("association", "CH")
    for code in codes[:2]:
        page.locator(f"#document-{code}").get_by_label("Statut").select_option("valid")
    line = page.locator(f"#document-{codes[2]}")
    line.get_by_label("Statut").select_option("invalid")
    line.get_by_label("Note").fill("Non signée")
    page.get_by_role("button", name="Enregistrer les documents").click()
    page.get_by_text("Les documents ont été enregistrés.").first.wait_for()
    assert (
        page.locator("#procedure-state").inner_text() == "Documents reçus, en cours de vérification"
    )

    page.get_by_role("button", name="Approuver : valider le compte pour la VoIP").click()
    page.get_by_role("alert").get_by_text(re.compile("la déclaration du président")).wait_for()
    assert "president_statement" not in page.get_by_role("alert").first.inner_text()

    page.get_by_label("Ce qui manque ou ne va pas (envoyé par e-mail au client)").fill(
        "L'attestation du président n'est pas signée."
    )
    page.get_by_role("button", name="Renvoyer au client").click()
    page.get_by_text("La procédure a été renvoyée au client.").wait_for()
    assert page.locator("#procedure-state").inner_text() == "En attente de vos documents"

    # The signed statement arrives: recorded valid, then approved.
    line = page.locator(f"#document-{codes[2]}")
    line.get_by_label("Statut").select_option("valid")
    line.get_by_label("Note").fill("")
    page.get_by_role("button", name="Enregistrer les documents").click()
    page.get_by_text("Les documents ont été enregistrés.").first.wait_for()
    page.get_by_role("button", name="Approuver : valider le compte pour la VoIP").click()
    page.get_by_text("La procédure a été approuvée : le compte est validé pour la VoIP.").wait_for()
    assert page.locator("#procedure-state").inner_text() == "Validée"
    history = page.locator("#history").inner_text()
    assert "Sam Operator" in history and "Renvoyée au client" in history and "Approuvée" in history

    with platform.session() as session:
        assert actions.is_validated(session, customer.id)
