"""What customers and staff do with accounts: sign up, log in, 2FA, tokens, profile, e-mails.

Each public function is one action: one transaction, the platform's clock, e-mails through the
outbox. A refusal raises a DomainError and changes nothing, except the record of a failed login,
which is committed before the refusal is raised (it is what throttling counts).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

import qrcode
import qrcode.image.svg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from voipdesk.accounts import rules
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.errors import (
    ClosureRefused,
    EmailAlreadyUsed,
    InvalidCredentials,
    InvalidSecondFactor,
    InvalidTotpCode,
    LoginThrottled,
    ResetLinkExpired,
    ResetLinkInvalid,
    ResetLinkUsed,
    TotpAlreadyOn,
    TotpNotOn,
    TotpNotStarted,
    WeakPassword,
    WrongPassword,
)
from voipdesk.accounts.models import (
    Account,
    ApiToken,
    EmailAttachment,
    KnownDevice,
    LoginAttempt,
    PasswordReset,
    RecoveryCode,
    SecurityEvent,
    ServiceEmail,
    WebSession,
)
from voipdesk.core.errors import InvalidInput, NotFound
from voipdesk.core.i18n import N_, format_datetime, gettext
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
    first_name: str
    last_name: str
    organisation_name: str | None = None
    registration_number: str | None = None
    address_line1: str
    address_line2: str | None = None
    postal_code: str
    city: str
    email: str
    backup_email: str | None = None
    mobile: str | None = None
    password: str = Field(repr=False)


class ProfileUpdate(BaseModel):
    """A partial profile: only the fields given are changed (`None` clears an optional one).
    An unknown field is refused rather than ignored, so a typo is not a silent no-op."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    kind: Kind | None = None
    country: Country | None = None
    language: Language | None = None
    first_name: str | None = None
    last_name: str | None = None
    organisation_name: str | None = None
    registration_number: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    email: str | None = None
    backup_email: str | None = None
    mobile: str | None = None


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


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


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


def _clean_profile(values: dict[str, Any]) -> dict[str, Any]:
    """Checks a whole profile; returns it normalised, or raises InvalidInput listing each field."""
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


def _new_handle(session: Session, platform: Platform, first_name: str, last_name: str) -> str:
    suffix = platform.settings.operator_handle_suffix
    for _attempt in range(50):
        handle = rules.make_handle(first_name, last_name, suffix)
        if session.scalar(select(Account.id).where(Account.handle == handle)) is None:
            return handle
    raise RuntimeError("no free handle after 50 tries")  # 100,000 per initials: a full table


def _customer_space_url(platform: Platform) -> str:
    return platform.settings.base_url.rstrip("/") + "/"


# --- sign up ----------------------------------------------------------------------------------
def sign_up(
    platform: Platform,
    data: SignUpData,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    device_id: str | None = None,
) -> Account:
    """Creates a customer account with a generated handle and sends the welcome e-mail.
    `device_id` (the browser's) is remembered so that logging in from it is not announced."""
    values = _clean_profile(data.model_dump(exclude={"password"}))
    check_password_policy(data.password, values["language"], _password_inputs(values))
    password_hash = hash_secret(data.password)
    for _attempt in range(3):
        try:
            return _create_account(
                platform, values, password_hash, ip=ip, user_agent=user_agent, device_id=device_id
            )
        except IntegrityError:
            # Two sign-ups raced for one e-mail or one handle: the e-mail check says which.
            with platform.session() as session:
                if _email_used(session, values["email"]):
                    raise EmailAlreadyUsed(fields={"email": EmailAlreadyUsed.message}) from None
    raise RuntimeError("could not create the account")


def _create_account(
    platform: Platform,
    values: dict[str, Any],
    password_hash: str,
    *,
    ip: str | None,
    user_agent: str | None,
    device_id: str | None,
    is_staff: bool = False,
    welcome: bool = True,
) -> Account:
    with platform.transaction() as session:
        if _email_used(session, values["email"]):
            raise EmailAlreadyUsed(fields={"email": EmailAlreadyUsed.message})
        now = platform.now()
        account = Account(
            handle=_new_handle(session, platform, values["first_name"], values["last_name"]),
            password_hash=password_hash,
            is_staff=is_staff,
            created_at=now,
            **{name: values.get(name) for name in PROFILE_FIELDS},
        )
        session.add(account)
        session.flush()
        if device_id:
            session.add(
                KnownDevice(
                    account_id=account.id,
                    device_hash=rules.sha256_hex(device_id),
                    user_agent=(user_agent or None) and user_agent[:300],
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
        _event(session, platform, account.id, "sign_up", ip=ip, user_agent=user_agent)
        if welcome:
            send_service_email(
                session,
                platform,
                account=account,
                kind="welcome",
                template="accounts/welcome",
                context={"handle": account.handle, "space_url": _customer_space_url(platform)},
            )
    return account


def create_staff(
    platform: Platform, *, email: str, first_name: str, last_name: str, password: str
) -> Account:
    """An operator account (back office): an individual in the operator's country."""
    settings = platform.settings
    values = _clean_profile(
        {
            "kind": "individual",
            "country": settings.operator_country
            if settings.operator_country in rules.COUNTRIES
            else "FR",
            "language": "fr",
            "first_name": first_name,
            "last_name": last_name,
            "address_line1": settings.operator_name,
            "address_line2": settings.operator_postal_address[:200],
            "postal_code": "-",
            "city": "-",
            "email": email,
        }
    )
    check_password_policy(password, "en", _password_inputs(values))
    return _create_account(
        platform,
        values,
        hash_secret(password),
        ip=None,
        user_agent=None,
        device_id=None,
        is_staff=True,
        welcome=False,
    )


# --- login ------------------------------------------------------------------------------------
def _throttle(session: Session, platform: Platform, account_id: str | None, ip: str) -> None:
    """Refuses a login try when too many failed in the window, for the account or the IP."""
    settings = platform.settings
    now = platform.now()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    since = now - window
    checks: list[tuple[Any, int]] = [
        (LoginAttempt.ip == ip, settings.login_max_failures_per_ip),
    ]
    if account_id is not None:
        checks.insert(
            0, (LoginAttempt.account_id == account_id, settings.login_max_failures_per_account)
        )
    retry_after = 0
    for condition, maximum in checks:
        failures = list(
            session.scalars(
                select(LoginAttempt.at)
                .where(condition, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
                .order_by(LoginAttempt.at)
            )
        )
        if len(failures) >= maximum:
            # Tries resume when enough failures have left the window.
            frees_at = failures[len(failures) - maximum] + window
            retry_after = max(retry_after, math.ceil((frees_at - now).total_seconds()), 1)
    if retry_after:
        minutes = max(1, -(-retry_after // 60))
        raise LoginThrottled(extra={"retry_after": retry_after}, minutes=minutes)


def _record_attempt(
    session: Session, platform: Platform, account_id: str | None, ip: str, succeeded: bool
) -> None:
    session.add(
        LoginAttempt(account_id=account_id, ip=ip[:64], at=platform.now(), succeeded=succeeded)
    )


_DUMMY_HASH = password_hasher.hash("voipdesk-timing-equaliser")


def check_credentials(
    platform: Platform, identifier: str, password: str, *, ip: str, user_agent: str | None
) -> Account:
    """The account whose handle or e-mail and password match. Does not say which part was wrong.
    With 2FA on, the caller must then call `verify_second_factor`."""
    failed = False
    with platform.transaction() as session:
        account = _find_by_identifier(session, identifier)
        _throttle(session, platform, account.id if account else None, ip)
        if account is None:
            verify_secret(_DUMMY_HASH, password)  # same time as a real check: no account probing
            failed = True
        elif not verify_secret(account.password_hash, password):
            failed = True
            _event(session, platform, account.id, "login_failed", ip=ip, user_agent=user_agent)
        elif password_hasher.check_needs_rehash(account.password_hash):
            account.password_hash = hash_secret(password)
        if failed:
            _record_attempt(session, platform, account.id if account else None, ip, False)
    if failed or account is None:
        raise InvalidCredentials()
    return account


def verify_second_factor(
    platform: Platform, account_id: str, code: str, *, ip: str, user_agent: str | None
) -> str:
    """Accepts a TOTP code (each time step once) or an unused recovery code (then used up).
    Returns "totp" or "recovery_code"."""
    method: str | None = None
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        _throttle(session, platform, account.id, ip)
        if account.totp_secret is None:
            raise TotpNotOn()
        method = _consume_second_factor(session, platform, account, code)
        if method is None:
            _record_attempt(session, platform, account.id, ip, False)
            _event(
                session, platform, account.id, "second_factor_failed", ip=ip, user_agent=user_agent
            )
        elif method == "recovery_code":
            _event(
                session, platform, account.id, "recovery_code_used", ip=ip, user_agent=user_agent
            )
    if method is None:
        raise InvalidSecondFactor()
    return method


def _consume_second_factor(
    session: Session, platform: Platform, account: Account, code: str
) -> str | None:
    code = (code or "").strip()
    assert account.totp_secret is not None
    if rules.is_totp_format(code.replace(" ", "")):
        step = rules.matching_totp_step(
            account.totp_secret, code, platform.now(), account.totp_last_step
        )
        if step is None:
            return None
        account.totp_last_step = step
        return "totp"
    if not rules.is_recovery_code_format(code):
        return None
    normalised = rules.normalise_recovery_code(code)
    for recovery in session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
        )
    ):
        if verify_secret(recovery.code_hash, normalised):
            recovery.used_at = platform.now()
            return "recovery_code"
    return None


def record_login(
    platform: Platform,
    account_id: str,
    *,
    ip: str,
    user_agent: str | None,
    device_id: str | None,
) -> bool:
    """Records a completed login. A device never seen before is announced by e-mail, unless it
    is the account's first one (the sign-up device). Returns whether the device was new."""
    with platform.transaction() as session:
        account = _account(session, account_id)
        now = platform.now()
        _record_attempt(session, platform, account.id, ip, True)
        _event(session, platform, account.id, "login", ip=ip, user_agent=user_agent)
        if not device_id:
            return False
        device_hash = rules.sha256_hex(device_id)
        device = session.scalar(
            select(KnownDevice).where(
                KnownDevice.account_id == account.id, KnownDevice.device_hash == device_hash
            )
        )
        if device is not None:
            device.last_seen_at = now
            return False
        first_device = (
            session.scalar(
                select(func.count())
                .select_from(KnownDevice)
                .where(KnownDevice.account_id == account.id)
            )
            == 0
        )
        session.add(
            KnownDevice(
                account_id=account.id,
                device_hash=device_hash,
                user_agent=(user_agent or None) and user_agent[:300],
                first_seen_at=now,
                last_seen_at=now,
            )
        )
        if not first_device:
            send_service_email(
                session,
                platform,
                account=account,
                kind="new-device-login",
                template="accounts/new_device_login",
                context={
                    "when": format_datetime(now, account.language, platform.settings.timezone),
                    "ip": ip,
                    "browser": user_agent or "?",
                    "security_url": _customer_space_url(platform),
                },
            )
        return True


# --- profile ----------------------------------------------------------------------------------
def get_profile(platform: Platform, account_id: str) -> Account:
    with platform.session() as session:
        return _account(session, account_id)


def update_profile(
    platform: Platform,
    account_id: str,
    changes: ProfileUpdate,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Account:
    """Changes the fields given, with the same checks as at sign-up (on the whole result)."""
    given = changes.model_dump(include=changes.model_fields_set)
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        current = {name: getattr(account, name) for name in PROFILE_FIELDS}
        values = _clean_profile({**current, **given})
        if values["email"] != account.email and _email_used(session, values["email"], account.id):
            raise EmailAlreadyUsed(fields={"email": EmailAlreadyUsed.message})
        changed = sorted(name for name in PROFILE_FIELDS if values.get(name) != current[name])
        for name in changed:
            setattr(account, name, values.get(name))
        if "email" in changed:
            # The old address hears of it: if the account was taken over, its owner knows.
            send_service_email(
                session,
                platform,
                account=account,
                kind="email-changed",
                template="accounts/email_changed",
                context={"old_email": current["email"], "new_email": account.email},
                to_address=current["email"],
            )
        if changed:
            _event(
                session,
                platform,
                account.id,
                "profile_updated",
                ip=ip,
                user_agent=user_agent,
                fields=changed,
            )
    return account


def change_password(
    platform: Platform,
    account_id: str,
    current_password: str,
    new_password: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        if not verify_secret(account.password_hash, current_password):
            raise WrongPassword(fields={"current_password": WrongPassword.message})
        check_password_policy(
            new_password,
            account.language,
            [*_password_inputs(_as_values(account)), current_password],
        )
        account.password_hash = hash_secret(new_password)
        _event(session, platform, account.id, "password_changed", ip=ip, user_agent=user_agent)


def _as_values(account: Account) -> dict[str, Any]:
    return {name: getattr(account, name) for name in (*PROFILE_FIELDS, "handle")}


# --- password reset ---------------------------------------------------------------------------
RESET_REQUESTS_PER_PERIOD = 5
RESET_REQUEST_PERIOD = timedelta(hours=1)


def request_password_reset(platform: Platform, identifier: str, *, ip: str | None = None) -> None:
    """E-mails a single-use reset link. Answers the same whether or not the account exists."""
    with platform.transaction() as session:
        account = _find_by_identifier(session, identifier)
        if account is None:
            return
        now = platform.now()
        recent = session.scalar(
            select(func.count())
            .select_from(PasswordReset)
            .where(
                PasswordReset.account_id == account.id,
                PasswordReset.created_at > now - RESET_REQUEST_PERIOD,
            )
        )
        if (recent or 0) >= RESET_REQUESTS_PER_PERIOD:
            return  # enough links are on their way: no mailbox flooding, and the same answer
        token = rules.new_reset_token()
        valid_minutes = platform.settings.password_reset_valid_minutes
        session.add(
            PasswordReset(
                token_hash=rules.sha256_hex(token),
                account_id=account.id,
                created_at=now,
                expires_at=now + timedelta(minutes=valid_minutes),
            )
        )
        _event(session, platform, account.id, "password_reset_requested", ip=ip)
        send_service_email(
            session,
            platform,
            account=account,
            kind="password-reset",
            template="accounts/password_reset",
            context={
                "reset_url": f"{platform.settings.base_url.rstrip('/')}/password-reset/{token}",
                "valid_minutes": valid_minutes,
            },
        )


def check_reset_token(platform: Platform, token: str) -> Account:
    """The account a reset link is for, if the link can still be used (for the form page)."""
    with platform.session() as session:
        reset = _usable_reset(session, platform, token)
        return _account(session, reset.account_id)


def _usable_reset(session: Session, platform: Platform, token: str) -> PasswordReset:
    reset = session.get(PasswordReset, rules.sha256_hex(token or ""))
    if reset is None:
        raise ResetLinkInvalid()
    if reset.used_at is not None:
        raise ResetLinkUsed()
    if reset.expires_at <= platform.now():
        raise ResetLinkExpired()
    return reset


def reset_password(
    platform: Platform, token: str, new_password: str, *, ip: str | None = None
) -> Account:
    """Sets a new password from a reset link; the link is used up and web sessions end."""
    with platform.transaction() as session:
        reset = _usable_reset(session, platform, token)
        account = _account(session, reset.account_id, lock=True)
        check_password_policy(new_password, account.language, _password_inputs(_as_values(account)))
        now = platform.now()
        account.password_hash = hash_secret(new_password)
        # Every outstanding link of this account is spent: the one that worked is enough.
        session.execute(
            update(PasswordReset)
            .where(PasswordReset.account_id == account.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
        session.execute(delete(WebSession).where(WebSession.account_id == account.id))
        _event(session, platform, account.id, "password_reset", ip=ip)
    return account


# --- two-factor authentication ----------------------------------------------------------------
def start_totp(platform: Platform, account_id: str) -> TotpEnrolment:
    """A new secret to scan; 2FA is on only once `confirm_totp` gets a code from it."""
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        if account.totp_secret is not None:
            raise TotpAlreadyOn()
        secret = rules.new_totp_secret()
        account.totp_pending_secret = secret
        uri = rules.otpauth_uri(secret, account.handle, platform.settings.operator_name)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))


def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def confirm_totp(
    platform: Platform,
    account_id: str,
    code: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> list[str]:
    """Turns 2FA on; returns 10 single-use recovery codes, shown this once."""
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        if account.totp_secret is not None:
            raise TotpAlreadyOn()
        if account.totp_pending_secret is None:
            raise TotpNotStarted()
        step = rules.matching_totp_step(
            account.totp_pending_secret, code or "", platform.now(), None
        )
        if step is None:
            raise InvalidTotpCode(fields={"code": InvalidTotpCode.message})
        account.totp_secret = account.totp_pending_secret
        account.totp_pending_secret = None
        account.totp_enabled_at = platform.now()
        account.totp_last_step = step
        codes = [rules.new_recovery_code() for _ in range(rules.RECOVERY_CODE_COUNT)]
        session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        session.add_all(
            RecoveryCode(account_id=account.id, code_hash=hash_secret(c)) for c in codes
        )
        _event(session, platform, account.id, "totp_enabled", ip=ip, user_agent=user_agent)
        send_service_email(
            session,
            platform,
            account=account,
            kind="totp-enabled",
            template="accounts/totp_enabled",
            context={"security_url": _customer_space_url(platform)},
        )
    return codes


def disable_totp(
    platform: Platform,
    account_id: str,
    password: str,
    code: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Turns 2FA off: needs the password and a current code (or an unused recovery code)."""
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        if account.totp_secret is None:
            raise TotpNotOn()
        if not verify_secret(account.password_hash, password or ""):
            raise WrongPassword(fields={"password": WrongPassword.message})
        if _consume_second_factor(session, platform, account, code) is None:
            raise InvalidTotpCode(fields={"code": InvalidTotpCode.message})
        account.totp_secret = None
        account.totp_pending_secret = None
        account.totp_enabled_at = None
        account.totp_last_step = None
        session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        _event(session, platform, account.id, "totp_disabled", ip=ip, user_agent=user_agent)
        send_service_email(
            session,
            platform,
            account=account,
            kind="totp-disabled",
            template="accounts/totp_disabled",
            context={"security_url": _customer_space_url(platform)},
        )


def remaining_recovery_codes(platform: Platform, account_id: str) -> int:
    with platform.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))
            )
            or 0
        )


# --- API tokens -------------------------------------------------------------------------------
def create_api_token(
    platform: Platform,
    account_id: str,
    name: str,
    expires_at: datetime | None = None,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[ApiToken, str]:
    """A bearer token; the secret is returned once and only its sha256 is kept."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = NAME_REQUIRED
    elif len(name) > 100:
        errors["name"] = TOO_LONG_FIELD
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= platform.now()):
        errors["expires_at"] = EXPIRY_IN_PAST
    if errors:
        raise InvalidInput(fields=errors)
    secret = rules.new_api_token_secret()
    with platform.transaction() as session:
        account = _account(session, account_id)
        token = ApiToken(
            account_id=account.id,
            name=name,
            token_hash=rules.sha256_hex(secret),
            created_at=platform.now(),
            expires_at=expires_at,
        )
        session.add(token)
        session.flush()
        _event(
            session,
            platform,
            account.id,
            "api_token_created",
            ip=ip,
            user_agent=user_agent,
            token_id=token.id,
            name=name,
        )
    return token, secret


def list_api_tokens(platform: Platform, account_id: str) -> list[ApiToken]:
    """The tokens not revoked, newest first (expired ones too, marked by their expiry)."""
    with platform.session() as session:
        return list(
            session.scalars(
                select(ApiToken)
                .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
                .order_by(ApiToken.created_at.desc(), ApiToken.id)
            )
        )


def revoke_api_token(
    platform: Platform,
    account_id: str,
    token_id: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    with platform.transaction() as session:
        token = session.scalar(
            select(ApiToken).where(
                ApiToken.id == token_id,
                ApiToken.account_id == account_id,
                ApiToken.revoked_at.is_(None),
            )
        )
        if token is None:
            raise NotFound()
        token.revoked_at = platform.now()
        _event(
            session,
            platform,
            account_id,
            "api_token_revoked",
            ip=ip,
            user_agent=user_agent,
            token_id=token.id,
            name=token.name,
        )


# Writing last_used_at at most once a minute keeps busy API clients from writing on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def authenticate_token(platform: Platform, secret: str) -> Account | None:
    """The account of a valid bearer token; None when unknown, expired or revoked."""
    if not secret:
        return None
    now = platform.now()
    with platform.session() as session:
        row = session.execute(
            select(ApiToken, Account)
            .join(Account, Account.id == ApiToken.account_id)
            .where(ApiToken.token_hash == rules.sha256_hex(secret))
        ).first()
        if row is None:
            return None
        token, account = row
        if token.revoked_at is not None or account.closed_at is not None:
            return None
        if token.expires_at is not None and token.expires_at <= now:
            return None
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            session.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
            session.commit()
        session.expunge(account)
        return account


# --- security events and service e-mails ------------------------------------------------------
def _encode_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        raise InvalidInput(fields={"cursor": CURSOR_INVALID}) from None
    if not isinstance(parts, list):
        raise InvalidInput(fields={"cursor": CURSOR_INVALID})
    return parts


def _limit(limit: int) -> int:
    return max(1, min(int(limit), 100))


def list_security_events(
    platform: Platform, account_id: str, limit: int = 50, cursor: str | None = None
) -> Page[SecurityEvent]:
    """Newest first."""
    limit = _limit(limit)
    query = select(SecurityEvent).where(SecurityEvent.account_id == account_id)
    if cursor:
        parts = _decode_cursor(cursor)
        if len(parts) != 1 or not isinstance(parts[0], int):
            raise InvalidInput(fields={"cursor": CURSOR_INVALID})
        query = query.where(SecurityEvent.id < parts[0])
    with platform.session() as session:
        rows = list(session.scalars(query.order_by(SecurityEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode_cursor(rows[-1].id) if more and rows else None)


def list_service_emails(
    platform: Platform, account_id: str, limit: int = 50, cursor: str | None = None
) -> Page[ServiceEmail]:
    """Newest first; attachments come with their names and types (not their content)."""
    limit = _limit(limit)
    query = (
        select(ServiceEmail)
        .where(ServiceEmail.account_id == account_id)
        .options(
            selectinload(ServiceEmail.attachments).load_only(
                EmailAttachment.id, EmailAttachment.filename, EmailAttachment.content_type
            )
        )
    )
    if cursor:
        parts = _decode_cursor(cursor)
        try:
            created_at = datetime.fromisoformat(parts[0])
            email_id = str(parts[1])
        except (IndexError, TypeError, ValueError):
            raise InvalidInput(fields={"cursor": CURSOR_INVALID}) from None
        if created_at.tzinfo is None:
            raise InvalidInput(fields={"cursor": CURSOR_INVALID})
        query = query.where(
            or_(
                ServiceEmail.created_at < created_at,
                (ServiceEmail.created_at == created_at) & (ServiceEmail.id < email_id),
            )
        )
    with platform.session() as session:
        rows = list(
            session.scalars(
                query.order_by(ServiceEmail.created_at.desc(), ServiceEmail.id.desc()).limit(
                    limit + 1
                )
            )
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        _encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) if more and rows else None
    )
    return Page(rows, next_cursor)


def get_service_email(platform: Platform, account_id: str, email_id: str) -> ServiceEmail:
    """One e-mail with its attachments; another customer's answers 404 like a missing one."""
    with platform.session() as session:
        email = session.scalar(
            select(ServiceEmail)
            .where(ServiceEmail.id == email_id, ServiceEmail.account_id == account_id)
            .options(selectinload(ServiceEmail.attachments))
        )
        if email is None:
            raise NotFound()
        return email


def get_email_attachment(
    platform: Platform, account_id: str, email_id: str, number: int
) -> EmailAttachment:
    """The `number`-th attachment (from 1) of one of the customer's e-mails."""
    email = get_service_email(platform, account_id, email_id)
    if not 1 <= number <= len(email.attachments):
        raise NotFound()
    return email.attachments[number - 1]


# --- closure ----------------------------------------------------------------------------------
def close_account(
    platform: Platform,
    account_id: str,
    password: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Account:
    """Closes the account, unless an area lists a reason not to (active services, unpaid
    invoices, orders in progress): then every reason is given and nothing changes. Closing ends
    every web session and API token; the account's records are kept."""
    from voipdesk.accounts.closure import blockers

    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        if not verify_secret(account.password_hash, password or ""):
            raise WrongPassword(fields={"password": WrongPassword.message})
        reasons = blockers(session, account)
        if reasons:
            language = account.language
            raise ClosureRefused(
                extra={
                    "reasons": [
                        {"code": r.code, "message": gettext(language, r.message, **r.values)}
                        for r in reasons
                    ]
                },
            )
        now = platform.now()
        send_service_email(
            session,
            platform,
            account=account,
            kind="account-closed",
            template="accounts/account_closed",
            context={"support_email": platform.settings.operator_email},
        )
        account.closed_at = now
        session.execute(
            update(ApiToken)
            .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.execute(delete(WebSession).where(WebSession.account_id == account.id))
        farewell = session.scalars(
            select(ServiceEmail.id).where(
                ServiceEmail.account_id == account.id, ServiceEmail.kind == "account-closed"
            )
        ).all()
        _erase_personal_data(session, account, keep_email_ids=set(farewell))
        _event(session, platform, account.id, "account_closed")
    return account


def _erase_personal_data(session: Session, account: Account, keep_email_ids: set[str]) -> None:
    """Erases what identifies the person, as far as the law allows: invoices keep the customer
    details of their day (billing area), the handle stays as a pseudonym they refer to, and the
    farewell e-mail is kept until it is delivered. The e-mail address becomes free again."""
    account.first_name = "-"
    account.last_name = "-"
    account.address_line1 = ""
    account.address_line2 = None
    account.postal_code = ""
    account.city = ""
    account.email = f"closed-{account.id}@invalid"
    account.backup_email = None
    account.mobile = None
    account.password_hash = "!closed"  # matches no password
    account.totp_secret = None
    account.totp_pending_secret = None
    for table in (RecoveryCode, KnownDevice, LoginAttempt, PasswordReset):
        session.execute(delete(table).where(table.account_id == account.id))
    session.execute(
        update(SecurityEvent)
        .where(SecurityEvent.account_id == account.id)
        .values(ip=None, user_agent=None)
    )
    others = select(ServiceEmail.id).where(
        ServiceEmail.account_id == account.id, ServiceEmail.id.not_in(keep_email_ids)
    )
    session.execute(delete(EmailAttachment).where(EmailAttachment.email_id.in_(others)))
    session.execute(
        delete(ServiceEmail).where(
            ServiceEmail.account_id == account.id, ServiceEmail.id.not_in(keep_email_ids)
        )
    )
