"""The demo's Belgian company, in a real browser: its first order of VoIP services stops in
validation with the procedure e-mail and PDF, staff approve it in the back office, and the order is
delivered with nobody touching it again (the worker's part is the outbox drain)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.validation.helpers import emails, pdf_text
from tests.web.conftest import browser_page, live_server  # noqa: F401 - fixtures
from voipdesk.accounts.models import Account
from voipdesk.core.outbox import drain
from voipdesk.demo import DEMO_PASSWORD, load_demo
from voipdesk.payments.provider import TEST_CARD_SUCCEEDS
from voipdesk.validation import rules

pytestmark = pytest.mark.browser

BELGIAN_COMPANY = "lucie@demo.voipdesk.example"
STAFF = "staff@demo.voipdesk.example"


def _log_in(page, server, email: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto("/login")
    page.locator("#f-identifier").fill(email)
    page.locator("#f-password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{server.url}/")


def test_belgian_company_first_order_validation_approval_delivery(
    browser_page,  # noqa: F811 - the fixture imported above
    live_server,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    platform = live_server.platform
    load_demo(platform)
    drain(platform)
    page = browser_page

    # The customer orders a line and pays by card: the order stops in validation.
    _log_in(page, live_server, BELGIAN_COMPANY)
    page.goto("/catalogue")
    page.locator("#qty_sip-decouverte").select_option("1")
    page.locator("#create-order").click()
    page.locator("#accept_terms").check()  # the review page: the terms are accepted
    page.locator("#create-order-confirmed").click()
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f]{32}$"))
    order_url = page.url
    page.locator("#choice-new-card").check()
    page.locator("#card_number").fill(TEST_CARD_SUCCEEDS)
    page.locator("#card_exp").fill("12/30")
    page.locator("#card_cvc").fill("123")
    page.locator("#pay-button").click()
    page.wait_for_url(order_url)
    drain(platform)
    page.reload()
    assert page.locator("#order-state").inner_text() == "Validation"
    assert "Envoyez la procédure de validation VoIP" in page.locator(".action-needed").inner_text()
    page.get_by_role("link", name="Votre procédure VoIP").click()
    page.wait_for_url(f"{live_server.url}/voip-procedure")
    assert "validation-be@" in page.locator("main").inner_text()  # where to send it
    # Paid by card: the company gives the bank account of its SEPA mandate on the same page.
    page.get_by_label("Nom du titulaire du compte").fill("Dupont Import SPRL")
    page.get_by_label("Adresse du titulaire du compte").fill("Rue Neuve 1, 1000 Bruxelles")
    page.get_by_label("IBAN").fill("BE68 5390 0754 7034")
    page.locator("input[name=bic]").fill("BBRUBEBB")
    page.get_by_role("button", name="Compléter ma procédure").click()
    page.locator("#procedure-start").wait_for(state="detached")  # the mandate is complete

    # The procedure e-mail, with its PDF: the Belgian company's documents, sent by e-mail.
    with platform.session() as session:
        lucie = session.scalar(select(Account).where(Account.email == BELGIAN_COMPANY))
        assert lucie is not None
    mail = emails(platform, lucie, "validation-procedure")[-1]  # sent again with the bank account
    assert mail.subject == (
        f"[{platform.settings.operator_name} - IMPORTANT] "
        "Nous attendons votre procédure VoIP pour finaliser votre commande."
    )
    [attachment] = mail.attachments
    text = pdf_text(attachment.data)
    assert platform.settings.operator_validation_email_be in text
    assert "Preuve de domiciliation dans le pays" in text
    assert "extrait K-Bis" not in text  # a French company's document, not a Belgian one
    page.goto("/service-emails")
    assert "Nous attendons votre procédure VoIP" in page.locator("main").inner_text()

    # Staff record the three documents and approve in the back office.
    _log_in(page, live_server, STAFF)
    page.goto("/backoffice/procedures")
    page.locator("#procedures tbody tr", has_text=lucie.handle).get_by_role("link").first.click()
    for code in rules.document_codes("company", "BE"):
        page.locator(f"#document-{code}").get_by_label("Statut").select_option("valid")
    page.get_by_role("button", name="Enregistrer les documents").click()
    page.get_by_text("Les documents ont été enregistrés.").first.wait_for()
    page.get_by_role("button", name="Approuver : valider le compte pour la VoIP").click()
    page.get_by_text("La procédure a été approuvée : le compte est validé pour la VoIP.").wait_for()

    # The order goes on to delivery by itself.
    drain(platform)
    _log_in(page, live_server, BELGIAN_COMPANY)
    page.goto(order_url)
    assert page.locator("#order-state").inner_text() == "Finalisée"
