"""Customer space pages through the TestClient: CSRF, language, login redirects, form errors."""

from __future__ import annotations

import html
import re

import pyotp
import pytest
from sqlalchemy import func, select

from tests.accounts.factories import PASSWORD, make_account
from tests.web.conftest import csrf_from, login
from voipdesk.accounts import actions
from voipdesk.accounts.models import Account, ServiceEmail, WebSession

SIGN_UP_FORM = {
    "kind": "individual",
    "country": "FR",
    "language": "fr",
    "first_name": "Camille",
    "last_name": "Martin",
    "address_line1": "12 rue des Lilas",
    "postal_code": "69003",
    "city": "Lyon",
    "email": "camille@example.org",
    "mobile": "06 12 34 56 78",
    "password": PASSWORD,
    "accept_terms": "true",
    "accept_privacy": "true",
}


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.text)


def account_count(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        return session.scalar(select(func.count()).select_from(Account)) or 0


def logged_in(client, platform, **overrides):  # type: ignore[no-untyped-def]
    account = make_account(platform, **overrides)
    response = login(client, account.handle, PASSWORD)
    assert response.status_code == 303
    return account


# --- CSRF -------------------------------------------------------------------------------------
def test_sign_up_without_csrf_token_is_refused_and_creates_nothing(client, platform) -> None:  # type: ignore[no-untyped-def]
    client.get("/signup")
    response = client.post("/signup", data=SIGN_UP_FORM)
    assert response.status_code == 403
    assert "security token" in response.text or "jeton de sécurité" in response.text
    assert account_count(platform) == 0


def test_sign_up_with_forged_csrf_token_is_refused_and_creates_nothing(client, platform) -> None:  # type: ignore[no-untyped-def]
    client.get("/signup")
    response = client.post("/signup", data={**SIGN_UP_FORM, "csrf_token": "0" * 64})
    assert response.status_code == 403
    assert "jeton de sécurité de ce formulaire n'est pas valide" in text(response)
    assert account_count(platform) == 0


def test_anonymous_token_is_bound_to_its_cookie(client, platform) -> None:  # type: ignore[no-untyped-def]
    """A token copied from another browser does not work with this browser's cookie."""
    token = csrf_from(client.get("/signup").text)
    client.cookies.clear()
    client.get("/login")  # a new nonce cookie
    response = client.post("/signup", data={**SIGN_UP_FORM, "csrf_token": token})
    assert response.status_code == 403
    assert account_count(platform) == 0


def test_logged_in_post_without_or_with_forged_token_changes_nothing(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = logged_in(client, platform)
    form = {name: getattr(account, name) or "" for name in actions.PROFILE_FIELDS}
    form["city"] = "Paris"
    assert client.post("/profile", data=form).status_code == 403
    assert client.post("/profile", data={**form, "csrf_token": "forged"}).status_code == 403
    anonymous_style = csrf_from(client.get("/password-reset").text)
    assert anonymous_style != "forged"
    assert actions.get_profile(platform, account.id).city == "Lyon"

    good = csrf_from(client.get("/profile").text)
    response = client.post("/profile", data={**form, "csrf_token": good}, follow_redirects=False)
    assert response.status_code == 303
    assert actions.get_profile(platform, account.id).city == "Paris"


def test_htmx_requests_send_the_token_in_a_header(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = logged_in(client, platform)
    token, _secret = actions.create_api_token(platform, account.id, "script")
    page = client.get("/security")
    header_token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert header_token
    url = f"/security/tokens/{token.id}/revoke"
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 403
    assert len(actions.list_api_tokens(platform, account.id)) == 1
    response = client.post(
        url, headers={"HX-Request": "true", "X-CSRF-Token": header_token.group(1)}
    )
    assert response.status_code == 200
    assert actions.list_api_tokens(platform, account.id) == []


# --- language ---------------------------------------------------------------------------------
def test_anonymous_language_default_accept_language_and_cookie(client) -> None:  # type: ignore[no-untyped-def]
    assert 'lang="fr"' in client.get("/login").text
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert 'lang="en"' in english.text
    assert "Log in to your customer space" in english.text
    token = csrf_from(english.text)
    switched = client.post(
        "/language",
        data={"csrf_token": token, "language": "fr", "next": "/login"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    french = client.get("/login", headers={"Accept-Language": "en"})
    assert "Connexion à votre espace client" in french.text


def test_logged_in_pages_follow_the_profile_language_until_the_switch_changes_the_pages_only(
    client, platform
) -> None:  # type: ignore[no-untyped-def]
    account = logged_in(client, platform, language="en")
    page = client.get("/", headers={"Accept-Language": "fr"})
    assert "Welcome, Camille Martin" in page.text
    # The header switch says what it changes: the pages, not the e-mails.
    assert "your e-mails keep the language chosen in your profile" in page.text
    response = client.post(
        "/language", data={"csrf_token": csrf_from(page.text), "language": "fr", "next": "/"}
    )
    assert "Bienvenue, Camille Martin" in response.text
    # The account's e-mail language stays what the profile says.
    assert actions.get_profile(platform, account.id).language == "en"
    assert 'lang="fr"' in client.get("/profile").text


def test_language_switch_never_redirects_to_another_site(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").text)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/language",
            data={"csrf_token": token, "language": "en", "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


# --- login and sessions -----------------------------------------------------------------------
def test_pages_redirect_to_login_and_back(client, platform) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/security?tab=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/security%3Ftab%3D1"
    account = make_account(platform)
    response = login(client, account.email, PASSWORD, next_path="/security")
    assert response.headers["location"] == "/security"
    assert client.get("/security").status_code == 200


def test_session_cookie_is_secure_http_only_and_lax(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform)
    response = login(client, account.handle, PASSWORD)
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("voipdesk_session=")
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    secret = cookie.split(";")[0].split("=", 1)[1]
    with platform.session() as session:
        rows = list(session.scalars(select(WebSession)))
    # Only the digest of the cookie is stored.
    assert [row.id for row in rows] != [secret]
    assert len(rows) == 1 and len(rows[0].id) == 64


def test_wrong_password_shows_the_error_on_the_login_form(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform)
    response = login(client, account.handle, "not-the-password")
    assert response.status_code == 401
    assert "identifiant ou le mot de passe" in text(response)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(client, platform) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, platform)
    token = csrf_from(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_two_factor_session_only_reaches_the_second_step(client, platform, clock) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform)
    enrolment = actions.start_totp(platform, account.id)
    actions.confirm_totp(platform, account.id, pyotp.TOTP(enrolment.secret).at(clock.now()))
    response = login(client, account.handle, PASSWORD, next_path="/profile")
    assert response.headers["location"] == "/login/2fa?next=/profile"
    assert client.get("/profile", follow_redirects=False).headers["location"] == "/login/2fa"
    page = client.get("/login/2fa?next=/profile")
    wrong = client.post(
        "/login/2fa",
        data={"csrf_token": csrf_from(page.text), "code": "000000", "next": "/profile"},
    )
    assert wrong.status_code == 401
    clock.advance(__import__("datetime").timedelta(seconds=30))
    good = client.post(
        "/login/2fa",
        data={
            "csrf_token": csrf_from(page.text),
            "code": pyotp.TOTP(enrolment.secret).at(clock.now()),
            "next": "/profile",
        },
        follow_redirects=False,
    )
    assert good.headers["location"] == "/profile"
    assert client.get("/profile").status_code == 200


# --- sign-up form -----------------------------------------------------------------------------
def test_sign_up_errors_are_shown_next_to_their_fields_with_values_kept(client, platform) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/signup").text)
    form = {
        **SIGN_UP_FORM,
        "csrf_token": token,
        "kind": "company",
        "organisation_name": "",
        "password": "short",
    }
    response = client.post("/signup", data=form)
    assert response.status_code == 422
    organisation = re.search(r'id="f-organisation_name-error">([^<]+)<', response.text)
    assert organisation and "organisation" in organisation.group(1)
    assert 'value="Camille"' in response.text
    assert 'value="short"' not in response.text  # a password is never echoed back
    form["organisation_name"] = "Martin SARL"
    form["registration_number"] = "732829320"
    response = client.post("/signup", data=form)
    assert response.status_code == 422
    assert re.search(r'id="f-password-error">[^<]*10 caractères', response.text)
    assert 'value="Martin SARL"' in response.text
    assert account_count(platform) == 0


def test_sign_up_logs_in_and_lands_on_the_dashboard(client, platform) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/signup").text)
    response = client.post("/signup", data={**SIGN_UP_FORM, "csrf_token": token})
    assert response.url.path == "/"
    assert "Bienvenue, Camille Martin" in response.text
    assert 'href="/catalogue"' in response.text
    assert account_count(platform) == 1


# --- errors and access ------------------------------------------------------------------------
def test_unknown_page_is_an_html_404_and_api_keeps_problem_json(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_another_customers_email_is_a_404(client, platform) -> None:  # type: ignore[no-untyped-def]
    other = make_account(platform)
    email = actions.list_service_emails(platform, other.id).items[0]
    logged_in(client, platform)
    assert client.get(f"/service-emails/{email.id}").status_code == 404
    assert client.get(f"/service-emails/{email.id}/attachments/1").status_code == 404


def test_back_office_is_for_staff_only(client, platform) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/backoffice", follow_redirects=False)
    assert anonymous.headers["location"] == "/login?next=/backoffice"
    customer = logged_in(client, platform)
    refused = client.get("/backoffice")
    assert refused.status_code == 403
    assert "Accès refusé" in refused.text
    assert 'href="/backoffice"' not in client.get("/").text
    with platform.transaction() as session:
        session.get(Account, customer.id).is_staff = True  # type: ignore[union-attr]
    staff_page = client.get("/backoffice")
    assert staff_page.status_code == 200
    assert 'href="/backoffice" aria-current="page"' in staff_page.text


@pytest.mark.parametrize("path", ["/", "/profile", "/security", "/service-emails"])
def test_account_pages_render_for_a_logged_in_customer(client, platform, path: str) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, platform, language="en")
    page = client.get(path)
    assert page.status_code == 200
    assert 'lang="en"' in page.text
    assert 'aria-current="page"' in page.text


# --- security, profile, password reset --------------------------------------------------------
def test_profile_errors_are_shown_and_nothing_changes(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = logged_in(client, platform, language="en")
    page = client.get("/profile")
    assert 'value="+33 6 12 34 56 78"' in page.text
    form = {name: getattr(account, name) or "" for name in actions.PROFILE_FIELDS}
    form.update(csrf_token=csrf_from(page.text), city="Paris", mobile="12")
    response = client.post("/profile", data=form)
    assert response.status_code == 422
    assert re.search(r'id="f-mobile-error">[^<]*phone number', response.text)
    assert 'value="Paris"' in response.text
    assert actions.get_profile(platform, account.id).city == "Lyon"


def test_api_token_secret_is_shown_once_then_listed_and_revoked(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = logged_in(client, platform, language="en")
    token = csrf_from(client.get("/security").text)
    created = client.post("/security/tokens", data={"csrf_token": token, "name": "billing script"})
    assert created.status_code == 200
    secret = re.search(r'id="new-token-secret">([^<]+)<', created.text)
    assert secret
    [api_token] = actions.list_api_tokens(platform, account.id)
    assert actions.authenticate_token(platform, secret.group(1)).id == account.id  # type: ignore[union-attr]
    again = client.get("/security")
    assert "billing script" in again.text and secret.group(1) not in again.text
    refused = client.post("/security/tokens", data={"csrf_token": token, "name": " "})
    assert refused.status_code == 422
    assert 'id="f-name-error"' in refused.text
    revoked = client.post(f"/security/tokens/{api_token.id}/revoke", data={"csrf_token": token})
    assert "The token was revoked." in revoked.text
    assert actions.list_api_tokens(platform, account.id) == []


def test_turning_two_factor_on_and_off_from_the_security_page(client, platform, clock) -> None:  # type: ignore[no-untyped-def]
    account = logged_in(client, platform, language="en")
    token = csrf_from(client.get("/security").text)
    started = client.post("/security/totp/start", data={"csrf_token": token})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text)
    assert secret and "<svg" in started.text
    wrong = client.post("/security/totp/confirm", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 422
    assert f'id="totp-secret">{secret.group(1)}<' in wrong.text  # the same key, already scanned
    confirmed = client.post(
        "/security/totp/confirm",
        data={"csrf_token": token, "code": pyotp.TOTP(secret.group(1)).at(clock.now())},
    )
    assert confirmed.status_code == 200
    assert len(re.findall(r"<li><code>", confirmed.text)) == 10
    assert actions.get_profile(platform, account.id).totp_enabled
    refused = client.post(
        "/security/totp/disable", data={"csrf_token": token, "password": "wrong", "code": "123456"}
    )
    assert refused.status_code == 422
    assert actions.get_profile(platform, account.id).totp_enabled
    clock.advance(__import__("datetime").timedelta(seconds=30))
    turned_off = client.post(
        "/security/totp/disable",
        data={
            "csrf_token": token,
            "password": PASSWORD,
            "code": pyotp.TOTP(secret.group(1)).at(clock.now()),
        },
    )
    assert "Two-factor authentication is now off." in turned_off.text
    assert not actions.get_profile(platform, account.id).totp_enabled


def test_change_password_checks_the_confirmation_and_the_current_one(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = logged_in(client, platform, language="en")
    token = csrf_from(client.get("/security").text)
    new = "Purple-Giraffe-Orbit-77!"
    differ = client.post(
        "/security/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": new,
            "new_password_confirm": "x",
        },
    )
    assert differ.status_code == 422 and 'id="f-new_password_confirm-error"' in differ.text
    wrong = client.post(
        "/security/password",
        data={
            "csrf_token": token,
            "current_password": "nope",
            "new_password": new,
            "new_password_confirm": new,
        },
    )
    assert wrong.status_code == 422 and 'id="f-current_password-error"' in wrong.text
    weak = client.post(
        "/security/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "new_password_confirm": "short",
        },
    )
    assert weak.status_code == 422 and 'id="f-new_password-error"' in weak.text
    done = client.post(
        "/security/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": new,
            "new_password_confirm": new,
        },
    )
    assert "Your password was changed; your other sessions were logged out." in done.text
    actions.check_credentials(platform, account.handle, new, ip="testclient", user_agent=None)


def test_password_reset_by_email_link(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform, language="en")
    client.headers["Accept-Language"] = "en"
    token = csrf_from(client.get("/password-reset").text)
    sent = client.post("/password-reset", data={"csrf_token": token, "identifier": account.email})
    assert "If an account matches" in sent.text
    unknown = client.post(
        "/password-reset", data={"csrf_token": token, "identifier": "nobody@example.org"}
    )
    assert unknown.text.count("If an account matches") == 1  # the same answer: no account probing
    [email] = [
        item
        for item in actions.list_service_emails(platform, account.id).items
        if item.kind == "password-reset"
    ]
    link = re.search(r"https://testserver(/password-reset/[\w-]+)", email.body_text)
    assert link
    form = client.get(link.group(1))
    assert form.status_code == 200 and account.handle in form.text
    new = "Purple-Giraffe-Orbit-77!"
    done = client.post(
        link.group(1),
        data={"csrf_token": csrf_from(form.text), "new_password": new, "new_password_confirm": new},
    )
    assert done.url.path == "/login"
    assert login(client, account.handle, new).status_code == 303
    used = client.get(link.group(1))
    assert used.status_code == 410


def test_password_strength_hint(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/signup", headers={"Accept-Language": "en"}).text)
    headers = {"HX-Request": "true", "X-CSRF-Token": token, "Accept-Language": "en"}
    weak = client.post("/password-strength", data={"password": "abc"}, headers=headers)
    assert "Too weak" in weak.text and "10 characters" in weak.text
    strong = client.post("/password-strength", data={"password": PASSWORD}, headers=headers)
    assert "Strong enough." in strong.text


def test_service_email_is_shown_sandboxed_with_its_attachments(client, platform) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.accounts.emails import send_service_email

    account = logged_in(client, platform, language="en")
    with platform.transaction() as session:
        row = session.get(Account, account.id)
        email = send_service_email(
            session,
            platform,
            account=row,
            kind="welcome",
            template="accounts/welcome",
            context={"handle": account.handle, "space_url": "https://testserver/"},
            attachments=[("procédure.pdf", "application/pdf", b"%PDF-1.4 test")],
        )
        email_id = email.id
    page = client.get(f"/service-emails/{email_id}")
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page.text
    assert 'srcdoc="&lt;!doctype html&gt;' in page.text  # the e-mail's HTML is data, not markup
    download = client.get(f"/service-emails/{email_id}/attachments/1")
    assert download.content == b"%PDF-1.4 test"
    assert download.headers["content-disposition"].startswith("attachment;")


def test_sign_up_records_the_acceptance_of_the_terms_and_the_privacy_notice(
    client, platform
) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/signup").text)
    refused = client.post(
        "/signup",
        data={
            **SIGN_UP_FORM,
            "csrf_token": token,
            "accept_terms": "",
            "accept_privacy": "",
            "email": "terms@example.org",
        },
    )
    assert refused.status_code == 422 and account_count(platform) == 0
    page = text(refused)
    # each refusal under its own checkbox, once
    assert page.count("Acceptez les conditions générales pour créer un compte.") == 1
    assert page.count("Acceptez la politique de confidentialité pour créer un compte.") == 1
    done = client.post(
        "/signup", data={**SIGN_UP_FORM, "csrf_token": token, "email": "terms@example.org"}
    )
    assert done.status_code in (200, 303)
    with platform.session() as session:
        account = session.scalar(select(Account).where(Account.email == "terms@example.org"))
        assert account is not None
    kinds = [event.kind for event in actions.list_security_events(platform, account.id).items]
    assert "terms_accepted" in kinds and "privacy_accepted" in kinds


def test_postal_codes_follow_each_countrys_rule(client, platform) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/signup").text)
    refused = client.post(
        "/signup",
        data={
            **SIGN_UP_FORM,
            "csrf_token": token,
            "postal_code": "6900",
            "email": "pc@example.org",
        },
    )
    assert refused.status_code == 422 and account_count(platform) == 0
    assert "Un code postal français a 5 chiffres" in text(refused)


def test_ordering_waits_until_the_email_address_is_confirmed_by_its_link(client, platform) -> None:  # type: ignore[no-untyped-def]
    import re as regex

    from voipdesk.catalogue.demo import seed_catalogue
    from voipdesk.orders.models import PurchaseOrder

    platform.settings.require_verified_email = True
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    token = csrf_from(client.get("/signup").text)
    client.post("/signup", data={**SIGN_UP_FORM, "csrf_token": token})
    catalogue = client.get("/catalogue")
    assert 'id="email-unverified"' in catalogue.text
    from voipdesk.orders.rules import TERMS

    # What the review page posts: the cart, the terms' versions and their acceptance.
    order = {
        "csrf_token": csrf_from(catalogue.text),
        "qty_sip-decouverte": "1",
        "accept_terms": "yes",
        **{f"terms_{code}": terms.version for code, terms in TERMS.items()},
    }
    refused = client.post("/orders/new", data=order, follow_redirects=False)
    assert refused.status_code == 403
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(PurchaseOrder)) == 0
        welcome = session.scalar(select(ServiceEmail).where(ServiceEmail.kind == "welcome"))
        assert welcome is not None
        link = regex.search(r"https://testserver(/verify-email/\S+)", welcome.body_text)
    assert link is not None
    # a forged link confirms nothing
    assert client.get(link.group(1)[:-4] + "0000").status_code == 404
    assert 'id="email-unverified"' in client.get("/catalogue").text
    confirmed = client.get(link.group(1))
    assert "Votre adresse e-mail est confirmée" in text(confirmed)
    catalogue = client.get("/catalogue")
    assert 'id="email-unverified"' not in catalogue.text
    order["csrf_token"] = csrf_from(catalogue.text)
    accepted = client.post("/orders/new", data=order, follow_redirects=False)
    assert accepted.status_code == 303
