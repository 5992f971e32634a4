"""Shared by the accounts actions: input schemas, password hashing, profile checks, the
security-event record and the cursor helpers (the `_` ones are private to this package)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts import rules
from voipdesk.accounts.errors import (
    WeakPassword,
)
from voipdesk.accounts.models import (
    Account,
    SecurityEvent,
)
from voipdesk.core.errors import InvalidInput, NotFound
from voipdesk.core.i18n import N_
from voipdesk.core.pagination import MAX_LIMIT
from voipdesk.core.platform import Platform

# OWASP's recommended argon2id parameters (19 MiB, 2 passes): strong, and quick enough per login.
password_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

Kind = Literal["individual", "company", "association"]
Country = Literal["FR", "BE", "CH", "CA-QC"]
Language = Literal["fr", "en"]

REQUIRED = N_("This field is required.")
TOO_LONG_FIELD = N_("This field is too long.")
BACKUP_SAME_AS_EMAIL = N_("The backup e-mail must differ from the main e-mail.")
ORGANISATION_REQUIRED = N_("The name of the organisation is required.")
CURSOR_INVALID = N_("This cursor is not valid.")
NAME_REQUIRED = N_("Give the token a name.")
EXPIRY_IN_PAST = N_("The expiry must be in the future.")

MAX_LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "organisation_name": 200,
    "address_line1": 200,
    "address_line2": 200,
    "postal_code": 20,
    "city": 100,
}


# --- inputs and results -----------------------------------------------------------------------
class SignUpData(BaseModel):
    """What a new customer gives. Checked by `sign_up` (field errors name each rule)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    kind: Kind = "individual"
    country: Country = "FR"
    language: Language = "fr"
    first_name: str = Field(max_length=1000)
    last_name: str = Field(max_length=1000)
    organisation_name: str | None = Field(None, max_length=1000)
    registration_number: str | None = Field(None, max_length=1000)
    address_line1: str = Field(max_length=1000)
    address_line2: str | None = Field(None, max_length=1000)
    postal_code: str = Field(max_length=1000)
    city: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    backup_email: str | None = Field(None, max_length=1000)
    mobile: str | None = Field(None, max_length=1000)
    password: str = Field(repr=False, max_length=1000)


class ProfileUpdate(BaseModel):
    """A partial profile: only the fields given are changed (`None` clears an optional one).
    An unknown field is refused rather than ignored, so a typo is not a silent no-op."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    kind: Kind | None = None
    country: Country | None = None
    language: Language | None = None
    first_name: str | None = Field(None, max_length=1000)
    last_name: str | None = Field(None, max_length=1000)
    organisation_name: str | None = Field(None, max_length=1000)
    registration_number: str | None = Field(None, max_length=1000)
    address_line1: str | None = Field(None, max_length=1000)
    address_line2: str | None = Field(None, max_length=1000)
    postal_code: str | None = Field(None, max_length=1000)
    city: str | None = Field(None, max_length=1000)
    email: str | None = Field(None, max_length=1000)
    backup_email: str | None = Field(None, max_length=1000)
    mobile: str | None = Field(None, max_length=1000)


PROFILE_FIELDS = tuple(ProfileUpdate.model_fields)
REQUIRED_PROFILE_FIELDS = (
    "kind",
    "country",
    "language",
    "first_name",
    "last_name",
    "address_line1",
    "postal_code",
    "city",
    "email",
)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


# --- helpers ----------------------------------------------------------------------------------
def hash_secret(secret: str) -> str:
    return password_hasher.hash(secret)


def verify_secret(hashed: str, secret: str) -> bool:
    try:
        return password_hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def _event(
    session: Session,
    platform: Platform,
    account_id: str,
    kind: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    **details: Any,
) -> None:
    session.add(
        SecurityEvent(
            account_id=account_id,
            kind=kind,
            at=platform.now(),
            ip=ip,
            user_agent=(user_agent or None) and user_agent[:300],
            details=details,
        )
    )


def _account(session: Session, account_id: str, *, lock: bool = False) -> Account:
    query = select(Account).where(Account.id == account_id, Account.closed_at.is_(None))
    if lock:
        query = query.with_for_update()
    account = session.scalar(query)
    if account is None:
        raise NotFound()
    return account


def _find_by_identifier(session: Session, identifier: str) -> Account | None:
    identifier = identifier.strip().lower()
    if not identifier:
        return None
    column = Account.handle if rules.looks_like_handle(identifier) else Account.email
    return session.scalar(select(Account).where(column == identifier, Account.closed_at.is_(None)))


def _find_for_recovery(session: Session, identifier: str) -> Account | None:
    """The account whose access is recovered: by handle or e-mail as at login, or by its backup
    address (the way back in when the main mailbox is lost), when one account only has it."""
    account = _find_by_identifier(session, identifier)
    address = identifier.strip().lower()
    if account is not None or not address or rules.looks_like_handle(address):
        return account
    found = session.scalars(
        select(Account).where(Account.backup_email == address, Account.closed_at.is_(None)).limit(2)
    ).all()
    return found[0] if len(found) == 1 else None


def _email_used(session: Session, email: str, except_account_id: str | None = None) -> bool:
    query = select(Account.id).where(Account.email == email)
    if except_account_id is not None:
        query = query.where(Account.id != except_account_id)
    return session.scalar(query) is not None


def check_password_policy(password: str, language: str, user_inputs: list[str | None]) -> None:
    """Raises `weak-password` naming the reason (see rules.check_password)."""
    verdict = rules.check_password(password, [value for value in user_inputs if value])
    if not verdict.accepted:
        assert verdict.reason is not None
        raise WeakPassword.from_verdict(verdict)


def _password_inputs(values: dict[str, Any]) -> list[str | None]:
    return [
        values.get("first_name"),
        values.get("last_name"),
        values.get("organisation_name"),
        values.get("email"),
        values.get("backup_email"),
        values.get("handle"),
        values.get("city"),
    ]


def _clean_profile(values: dict[str, Any], postal_address: bool = True) -> dict[str, Any]:
    """Checks a whole profile; returns it normalised, or raises InvalidInput listing each field.
    `postal_address=False` (staff accounts, which have no postal address of their own) skips the
    postal code's country rule."""
    errors: dict[str, str] = {}
    clean = dict(values)
    for name in PROFILE_FIELDS:
        value = clean.get(name)
        if isinstance(value, str):
            value = value.strip()
            clean[name] = value or None
    for name in REQUIRED_PROFILE_FIELDS:
        if not clean.get(name):
            errors[name] = REQUIRED
    for name, maximum in MAX_LENGTHS.items():
        if clean.get(name) and len(clean[name]) > maximum:
            errors[name] = TOO_LONG_FIELD
    kind, country = clean.get("kind"), clean.get("country")
    if kind is not None and kind not in rules.KINDS:
        errors["kind"] = N_("Choose individual, company or association.")
    if country is not None and country not in rules.COUNTRIES:
        errors["country"] = N_("This country is not served.")
    if clean.get("language") is not None and clean["language"] not in rules.LANGUAGES:
        errors["language"] = N_("Choose fr or en.")

    for name in ("email", "backup_email"):
        if clean.get(name):
            try:
                clean[name] = rules.normalise_email(clean[name])
            except ValueError as error:
                errors[name] = str(error)
    if (
        "email" not in errors
        and "backup_email" not in errors
        and clean.get("backup_email")
        and clean["backup_email"] == clean.get("email")
    ):
        errors["backup_email"] = BACKUP_SAME_AS_EMAIL

    if kind in ("company", "association"):
        if not clean.get("organisation_name"):
            errors["organisation_name"] = ORGANISATION_REQUIRED
    elif kind == "individual":
        clean["organisation_name"] = None
        clean["registration_number"] = None

    if country in rules.COUNTRIES:
        if postal_address and clean.get("postal_code") and "postal_code" not in errors:
            try:
                clean["postal_code"] = rules.normalise_postal_code(clean["postal_code"], country)
            except ValueError as error:
                errors["postal_code"] = str(error)
        if clean.get("mobile"):
            try:
                clean["mobile"] = rules.normalise_mobile(clean["mobile"], country)
            except ValueError as error:
                errors["mobile"] = str(error)
        if clean.get("registration_number"):
            try:
                clean["registration_number"] = rules.normalise_registration_number(
                    clean["registration_number"], country
                )
            except ValueError as error:
                errors["registration_number"] = str(error)
        elif kind is not None and rules.registration_required(kind):
            errors["registration_number"] = rules.REGISTRATION_REQUIRED
    if errors:
        raise InvalidInput(fields=errors)
    return clean


def _customer_space_url(platform: Platform) -> str:
    return platform.settings.base_url.rstrip("/") + "/"


def _as_values(account: Account) -> dict[str, Any]:
    return {name: getattr(account, name) for name in (*PROFILE_FIELDS, "handle")}


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))
