"""Platform settings, read from `VOIPDESK_*` environment variables (or a `.env` file)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-in-production-please-0123456789"
MIN_SECRET_LENGTH = 32


def new_secret() -> str:
    """A fresh random secret (what `voipdesk secret` prints)."""
    return secrets.token_urlsafe(48)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOIPDESK_", env_file=".env", extra="ignore")

    # The operator: its name appears in e-mails, PDFs and handles.
    operator_name: str = "VoIPdesk Telecom"
    operator_handle_suffix: str = "vd"
    operator_country: str = "FR"
    operator_postal_address: str = "1 rue de la Paix, 75002 Paris, France"
    operator_email: str = "support@voipdesk.example"
    operator_validation_email_be: str = "validation-be@voipdesk.example"
    operator_validation_email_ch: str = "validation-ch@voipdesk.example"
    operator_sepa_creditor_id: str = "FR72ZZZ123456"
    operator_iban: str = "FR7630006000011234567890189"
    operator_bic: str = "AGRIFRPP"
    operator_vat_number: str = "FR40303265045"
    # The seller's legal identity printed on invoices (French mentions: form, capital, SIREN, RCS).
    operator_legal_name: str = "VoIPdesk Telecom SAS"
    operator_legal_form: str = "SAS"
    operator_share_capital: str = "10 000 €"
    operator_registration_number: str = "303265045"  # SIREN
    operator_registry: str = "RCS Paris"
    operator_postal_code: str = "75002"
    operator_city: str = "Paris"
    operator_street: str = "1 rue de la Paix"
    # Swiss QR-bills need a Swiss (or Liechtenstein) account of the operator.
    operator_iban_ch: str = "CH9300762011623852957"

    base_url: str = "http://127.0.0.1:8000"
    database_url: str = "sqlite:///voipdesk.sqlite3"
    # Signs sessions, CSRF tokens and cursors. The default is public: outside `serve --demo` and
    # the tests the platform refuses to start with it or with a short key (`voipdesk secret`).
    secret_key: str = Field(default=DEFAULT_SECRET_KEY)

    # The payment provider: unset = none (cards and direct debits are refused, bank transfers
    # work); "sandbox" = the built-in test provider (the demo's and the tests' choice, never for
    # real money); or "package.module:factory" for a real one (see voipdesk.payments.provider).
    payment_provider: str | None = None
    # The provider's webhook signing secret, never the session key above.
    payment_webhook_secret: str | None = None

    # SMTP: with no host, e-mails are stored and shown in the customer space only.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "VoIPdesk <no-reply@voipdesk.example>"

    # SMS gateway: an HTTP endpoint; with none, SMS are stored only.
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None

    # Secure cookies are kept on for localhost too: browsers accept them there.
    cookie_secure: bool = True
    timezone: str = "Europe/Paris"
    # The terms and privacy notice customers accept at sign-up (the version is recorded with it).
    terms_url: str = "/legal/terms"
    privacy_url: str = "/legal/privacy"
    terms_version: str = "2026-12"
    # Ordering from the customer space waits until the account's e-mail address is confirmed.
    require_verified_email: bool = True

    # Logins. Per account and address: `login_free_failures` tries in a row cost nothing, then
    # each one waits, from `login_delay_base_seconds` doubling up to `login_delay_max_seconds`.
    # Per account from every address: past `login_max_failures_per_account` failures in the
    # window, only a second factor (or a reset link) gets in, and the owner is told by e-mail.
    login_free_failures: int = 3
    login_delay_base_seconds: int = 30
    login_delay_max_seconds: int = 3600
    login_max_failures_per_account: int = 50
    login_max_failures_per_ip: int = 20
    login_failure_window_minutes: int = 15

    password_reset_valid_minutes: int = 60
    session_valid_days: int = 14

    outbox_max_attempts: int = 10

    # Webhooks: endpoints are called at public internet addresses only (a name is resolved and
    # every address checked, at registration and before each attempt). True lets them point at
    # this machine or a private network: for tests and development, never on a shared server.
    webhooks_allow_private_addresses: bool = False

    # Telephony: the SIP domain phones register to (also the digest realm of SIP passwords: a
    # change of domain needs new passwords), its port and transport.
    sip_domain: str = "sip.voipdesk.example"
    sip_port: int = 5060
    sip_transport: str = "udp"
    # The switch (Kamailio, `voipdesk switch run`): the address it listens on (port: sip_port),
    # the carrier trunk ("host:port", calls to the outside; None: none) and its call limit, the
    # SIP worker processes and shared memory (MB; about 140 KB per call per second), the port of
    # its records writer (default sip_port + 1), after how many failed authentications an address
    # is banned and for how long, the flood limit (requests per address per 2 s), the media
    # service ("host:port"; None: calls to voicemail, IVR and conferences get 480), the voipdesk
    # URL and token the switch uses for star codes (default: base_url; token from secret_key).
    switch_address: str = "127.0.0.1"
    switch_trunk: str | None = None
    switch_trunk_calls: int | None = None
    switch_workers: int = 4
    switch_memory_mb: int = 512
    switch_reporter_port: int | None = None
    switch_ban_failures: int = 10
    switch_ban_seconds: int = 300
    switch_flood_requests: int = 200
    switch_media_uri: str | None = None
    switch_api_url: str | None = None
    switch_token: str | None = None
    # The media service (`voipdesk media run`: voicemail, 123, conference rooms): the address and
    # UDP port its SIP listens on, and its RTP ports (two per call). The switch reaches it at
    # switch_media_uri (the demo sets it to this address and port).
    media_address: str = "127.0.0.1"
    media_port: int = 5080
    media_rtp_min: int = 20000
    media_rtp_max: int = 29999
    # Voicemail messages older than this many days are deleted by a periodic job (0: kept).
    voicemail_retention_days: int = 90
    # Audio (voicemail messages and greetings) is kept as files here, the database holding
    # their metadata; relative to the working directory, like the default SQLite file.
    media_dir: str = "voipdesk-media"

    # Orders (area orders): numbers an unpaid order holds are reserved for this many hours (they
    # are reserved again when it is paid); an account holds at most this many reserved numbers
    # across its unpaid orders.
    number_hold_hours: int = 2
    max_reserved_numbers_per_account: int = 100

    # Requests: the largest body accepted (413 beyond it, before anything parses it).
    max_body_bytes: int = 1_048_576
    # Uploaded files (multipart: voicemail greetings, IVR prompts): their routes check their own
    # maximum (5 and 10 MB) below this.
    max_upload_bytes: int = 12 * 1_048_576

    # Billing (area billing): days a suspended, unpaid service is kept before its deletion.
    billing_grace_days: int = 15


def secret_problems(settings: Settings) -> list[str]:
    """Why these settings must not serve real customers (empty when they can)."""
    problems: list[str] = []
    how = "make one with `voipdesk secret` and set it in the environment or the .env file"
    if settings.secret_key == DEFAULT_SECRET_KEY:
        problems.append(f"VOIPDESK_SECRET_KEY is the built-in default, which is public: {how}.")
    elif len(settings.secret_key) < MIN_SECRET_LENGTH:
        problems.append(
            f"VOIPDESK_SECRET_KEY is too short ({len(settings.secret_key)} characters, at least "
            f"{MIN_SECRET_LENGTH}): {how}."
        )
    if settings.payment_provider:
        webhook = settings.payment_webhook_secret or ""
        if len(webhook) < MIN_SECRET_LENGTH:
            problems.append(
                "VOIPDESK_PAYMENT_WEBHOOK_SECRET is missing or shorter than "
                f"{MIN_SECRET_LENGTH} characters: set the provider's webhook signing secret "
                "(for the sandbox, one from `voipdesk secret`)."
            )
        elif webhook == settings.secret_key:
            problems.append("VOIPDESK_PAYMENT_WEBHOOK_SECRET must differ from VOIPDESK_SECRET_KEY.")
    return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()
