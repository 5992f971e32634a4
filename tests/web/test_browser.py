"""The customer space in a real browser (Chromium through Playwright) against a real server."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.browser


def fill_sign_up(
    page, *, first_name: str, last_name: str, email: str, language_label: str, labels: dict
) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label(labels["first_name"], exact=True).fill(first_name)
    page.get_by_label(labels["last_name"], exact=True).fill(last_name)
    page.get_by_label(labels["address"], exact=True).fill("12 rue des Lilas")
    page.get_by_label(labels["postal_code"], exact=True).fill("69003")
    page.get_by_label(labels["city"], exact=True).fill("Lyon")
    page.get_by_label(labels["email"], exact=True).fill(email)
    page.get_by_label(labels["mobile"], exact=True).fill("+33612345678")
    page.get_by_label(labels["language"], exact=True).select_option(label=language_label)
    page.get_by_label(labels["password"], exact=True).fill(PASSWORD)
    page.get_by_label(labels["terms"]).check()
    page.get_by_label(labels["privacy"]).check()
    page.get_by_role("button", name=labels["submit"]).click()


FRENCH = {
    "first_name": "Prénom",
    "last_name": "Nom",
    "address": "Adresse",
    "postal_code": "Code postal",
    "city": "Ville",
    "email": "E-mail",
    "mobile": "Téléphone mobile",
    "language": "Langue de vos e-mails",
    "password": "Mot de passe",
    "submit": "Créer mon compte",
    "terms": "J'ai lu et j'accepte les conditions générales",
    "privacy": "J'ai lu la politique de confidentialité",
}
ENGLISH = {
    "first_name": "First name",
    "last_name": "Last name",
    "address": "Address",
    "postal_code": "Postal code",
    "city": "City",
    "email": "E-mail",
    "mobile": "Mobile phone",
    "language": "Language of your e-mails",
    "password": "Password",
    "submit": "Create my account",
    "terms": "I have read and accept the terms of service",
    "privacy": "I have read the privacy notice",
}


def test_sign_up_in_french_and_read_the_welcome_email(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.goto("/signup")
    assert page.locator("html").get_attribute("lang") == "fr"
    fill_sign_up(
        page,
        first_name="Camille",
        last_name="Martin",
        email="camille@example.org",
        language_label="Français",
        labels=FRENCH,
    )
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("heading", name="Bienvenue, Camille Martin").wait_for()
    handle = page.locator(".site-header .handle").inner_text()
    assert re.fullmatch(r"cm\d{5}-vd", handle)
    assert page.get_by_text("Vous n'avez pas encore de ligne").is_visible()

    page.get_by_role("navigation").get_by_role("link", name="E-mails de service").click()
    page.get_by_role("heading", name="E-mails de service", level=1).wait_for()
    page.get_by_role("link", name=re.compile("Bienvenue chez")).click()
    page.get_by_role("heading", name=re.compile(f"identifiant client est {handle}")).wait_for()
    body = page.frame_locator("iframe.email-body")
    body.get_by_text("Votre compte client VoIPdesk Telecom est prêt.").wait_for()


def test_sign_up_in_english_and_read_the_welcome_email(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.goto("/signup")
    # The visitor switches the page to English before signing up.
    page.get_by_role("button", name=re.compile("^EN")).click()
    page.get_by_role("heading", name="Create your account").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    fill_sign_up(
        page,
        first_name="Olivia",
        last_name="Tremblay",
        email="olivia@example.org",
        language_label="English",
        labels=ENGLISH,
    )
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("heading", name="Welcome, Olivia Tremblay").wait_for()
    page.get_by_role("navigation").get_by_role("link", name="Service e-mails").click()
    page.get_by_role("link", name=re.compile("Welcome to VoIPdesk Telecom")).click()
    body = page.frame_locator("iframe.email-body")
    body.get_by_text("Your VoIPdesk Telecom customer account is ready.").wait_for()


def test_two_factor_login_and_its_email(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.goto("/signup")
    fill_sign_up(
        page,
        first_name="Hugo",
        last_name="Bernard",
        email="hugo@example.org",
        language_label="Français",
        labels=FRENCH,
    )
    page.wait_for_url(f"{live_server.url}/")
    handle = page.locator(".site-header .handle").inner_text()

    page.get_by_role("navigation").get_by_role("link", name="Sécurité").click()
    page.get_by_role("button", name="Activer la double authentification").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code affiché par l'application").fill(totp.now())
    page.get_by_role("button", name="Activer la double authentification").click()
    page.get_by_text("La double authentification est maintenant activée.").wait_for()
    assert page.locator(".recovery-codes li").count() == 10

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{live_server.url}/login")
    page.get_by_label("Identifiant client ou e-mail").fill(handle)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/login/2fa"))
    # The code just used to turn 2FA on is never accepted twice: give the next period's code.
    page.get_by_label("Code", exact=True).fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("heading", name="Bienvenue, Hugo Bernard").wait_for()
    assert page.get_by_text("La double authentification est activée.").is_visible()

    page.get_by_role("navigation").get_by_role("link", name="E-mails de service").click()
    page.get_by_role("link", name=re.compile("la double authentification est activée")).click()
    body = page.frame_locator("iframe.email-body")
    body.get_by_text(re.compile(f"activée pour le compte {handle}")).wait_for()
