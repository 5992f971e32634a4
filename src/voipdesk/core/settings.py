"""Platform settings, read from `VOIPDESK_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    secret_key: str = Field(default="change-me-in-production-please-0123456789")

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

    # Logins: failures before a pause, and the pause.
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window_minutes: int = 15

    password_reset_valid_minutes: int = 60
    session_valid_days: int = 14

    outbox_max_attempts: int = 10

    # Billing (area billing): days a suspended, unpaid service is kept before its deletion.
    billing_grace_days: int = 15


@lru_cache
def get_settings() -> Settings:
    return Settings()
