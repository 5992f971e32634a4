"""Account security: login (credentials, throttling, second factor, new devices), password
change and reset, two-factor authentication (TOTP, recovery codes) and the security log.

A refusal raises a DomainError and changes nothing, except the record of a failed login, which is
committed before the refusal is raised (it is what throttling counts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import qrcode
import qrcode.image.svg
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from voipdesk.accounts import rules
from voipdesk.accounts.actions.common import (
    Page,
    _account,
    _as_values,
    _customer_space_url,
    _event,
    _find_by_identifier,
    _find_for_recovery,
    _limit,
    _password_inputs,
    check_password_policy,
    hash_secret,
    password_hasher,
    verify_secret,
)
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.errors import (
    AccountLocked,
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
    WrongPassword,
)
from voipdesk.accounts.models import (
    Account,
    ApiToken,
    KnownDevice,
    LoginAttempt,
    PasswordReset,
    RecoveryCode,
    SecurityEvent,
    WebSession,
)
from voipdesk.core.errors import DomainError
from voipdesk.core.i18n import format_datetime
from voipdesk.core.pagination import cursor_key, encode_cursor
from voipdesk.core.platform import Platform


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


# --- login ---------------------------------------------------------------------------------------
# Throttling that cannot be turned against the owner (see core.settings for the numbers):
# - per account and address: a few free tries, then growing waits (failed second factors and
#   failed re-authentications count too); a success from that address starts again from zero;
# - per address across accounts: a pause past `login_max_failures_per_ip` (guessing many accounts);
# - per account from everywhere: past `login_max_failures_per_account` failures in the window the
#   password alone no longer gets in (it is not even checked, so the lock is no oracle); a second
#   factor still does, and so does the reset link e-mailed to the owner; a completed reset lifts it.
PAIR_HORIZON = timedelta(hours=24)


def _raise_throttled(retry_after: int) -> None:
    minutes = max(1, -(-retry_after // 60))
    raise LoginThrottled(extra={"retry_after": retry_after}, minutes=minutes)


def _pair_wait(session: Session, platform: Platform, account_id: str, ip: str) -> int:
    """Seconds this account and address must still wait before the next try (0: it may try)."""
    settings = platform.settings
    now = platform.now()
    same_pair = (LoginAttempt.account_id == account_id, LoginAttempt.ip == ip[:64])
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(*same_pair, LoginAttempt.succeeded.is_(True))
    )
    since = max(now - PAIR_HORIZON, last_success) if last_success else now - PAIR_HORIZON
    failures = list(
        session.scalars(
            select(LoginAttempt.at)
            .where(*same_pair, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc())
            .limit(64)
        )
    )
    delay = rules.pair_delay_seconds(
        len(failures),
        settings.login_free_failures,
        settings.login_delay_base_seconds,
        settings.login_delay_max_seconds,
    )
    if not delay:
        return 0
    return max(0, math.ceil((failures[0] + timedelta(seconds=delay) - now).total_seconds()))


def _throttle(session: Session, platform: Platform, account_id: str | None, ip: str) -> None:
    """Refuses a try while this account and address wait, or while the address has failed too
    often across accounts."""
    settings = platform.settings
    now = platform.now()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    retry_after = _pair_wait(session, platform, account_id, ip) if account_id else 0
    failures = list(
        session.scalars(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.ip == ip[:64],
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > now - window,
            )
            .order_by(LoginAttempt.at)
        )
    )
    maximum = settings.login_max_failures_per_ip
    if len(failures) >= maximum:
        frees_at = failures[len(failures) - maximum] + window
        retry_after = max(retry_after, math.ceil((frees_at - now).total_seconds()), 1)
    if retry_after:
        _raise_throttled(retry_after)


def _account_failures(session: Session, platform: Platform, account_id: str) -> int:
    window = timedelta(minutes=platform.settings.login_failure_window_minutes)
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.account_id == account_id,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > platform.now() - window,
            )
        )
        or 0
    )


def _account_locked(session: Session, platform: Platform, account_id: str) -> bool:
    maximum = platform.settings.login_max_failures_per_account
    return _account_failures(session, platform, account_id) >= maximum


def _record_failure(session: Session, platform: Platform, account: Account | None, ip: str) -> None:
    """Records a failed try; the one that locks the account tells the owner, with a reset link."""
    _record_attempt(session, platform, account.id if account else None, ip, False)
    if account is None:
        return
    session.flush()
    if _account_failures(session, platform, account.id) == (
        platform.settings.login_max_failures_per_account
    ):
        _event(session, platform, account.id, "login_locked", ip=ip)
        context = {
            "reset_url": _new_reset_link(session, platform, account),
            "valid_minutes": platform.settings.password_reset_valid_minutes,
            "minutes": platform.settings.login_failure_window_minutes,
            "security_url": _customer_space_url(platform),
        }
        for address in rules.security_addresses(account.email, account.backup_email):
            send_service_email(
                session,
                platform,
                account=account,
                kind="login-locked",
                template="accounts/login_locked",
                context=context,
                to_address=address,
            )


def reauthentication_wait(platform: Platform, account_id: str, ip: str | None) -> None:
    """For the routes that ask a logged-in owner for the password again (password change,
    closure, turning 2FA off): their failures count like failed logins, per account and address
    (never the account-wide lock: that one must not lock the owner out of its own session)."""
    with platform.session() as session:
        wait = _pair_wait(session, platform, account_id, ip or "unknown")
    if wait:
        _raise_throttled(wait)


def record_reauthentication_failure(
    platform: Platform, account_id: str, ip: str | None, user_agent: str | None
) -> None:
    with platform.transaction() as session:
        _record_attempt(session, platform, account_id, ip or "unknown", False)
        _event(
            session, platform, account_id, "reauthentication_failed", ip=ip, user_agent=user_agent
        )


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
        if (
            account is not None
            and account.totp_secret is None
            and _account_locked(session, platform, account.id)
        ):
            raise AccountLocked()
        if account is None:
            verify_secret(_DUMMY_HASH, password)  # same time as a real check: no account probing
            failed = True
        elif not verify_secret(account.password_hash, password):
            failed = True
            _event(session, platform, account.id, "login_failed", ip=ip, user_agent=user_agent)
        elif password_hasher.check_needs_rehash(account.password_hash):
            account.password_hash = hash_secret(password)
        if failed:
            _record_failure(session, platform, account, ip)
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
            _record_failure(session, platform, account, ip)
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
            for address in rules.security_addresses(account.email, account.backup_email):
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
                    to_address=address,
                )
        return True


def change_password(
    platform: Platform,
    account_id: str,
    current_password: str,
    new_password: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    keep_web_session: str | None = None,
    revoke_tokens: bool = False,
    keep_token_hash: str | None = None,
) -> int:
    """Changes the password. Every other web session ends (`keep_web_session`: the id of the one
    making the change); with `revoke_tokens`, every API token is revoked too but the one making
    the change (`keep_token_hash`). The account and its backup address are told by e-mail.
    Returns how many API tokens were revoked."""
    reauthentication_wait(platform, account_id, ip)
    revoked = 0
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        right = verify_secret(account.password_hash, current_password)
        if right:
            check_password_policy(
                new_password,
                account.language,
                [*_password_inputs(_as_values(account)), current_password],
            )
            account.password_hash = hash_secret(new_password)
            _end_sessions(session, account.id, keep=keep_web_session)
            if revoke_tokens:
                revoked = _revoke_tokens(session, platform, account.id, keep=keep_token_hash)
            _event(session, platform, account.id, "password_changed", ip=ip, user_agent=user_agent)
            _tell_password_changed(session, platform, account, "changed", ip, revoked)
    if not right:
        record_reauthentication_failure(platform, account_id, ip, user_agent)
        raise WrongPassword(fields={"current_password": WrongPassword.message})
    return revoked


def _end_sessions(session: Session, account_id: str, keep: str | None = None) -> None:
    query = delete(WebSession).where(WebSession.account_id == account_id)
    if keep is not None:
        query = query.where(WebSession.id != keep)
    session.execute(query)


def _revoke_tokens(
    session: Session, platform: Platform, account_id: str, keep: str | None = None
) -> int:
    query = update(ApiToken).where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
    if keep is not None:
        query = query.where(ApiToken.token_hash != keep)
    result = session.execute(query.values(revoked_at=platform.now()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _tell_password_changed(
    session: Session,
    platform: Platform,
    account: Account,
    how: str,
    ip: str | None,
    revoked: int,
) -> None:
    """The e-mail "your password was changed", to the account and to its backup address (the
    one an intruder who took the main mailbox does not read)."""
    context = {
        "how": how,
        "when": format_datetime(platform.now(), account.language, platform.settings.timezone),
        "ip": ip or "?",
        "revoked": revoked,
        "security_url": _customer_space_url(platform),
        "reset_url": f"{platform.settings.base_url.rstrip('/')}/password-reset",
    }
    for address in rules.security_addresses(account.email, account.backup_email):
        send_service_email(
            session,
            platform,
            account=account,
            kind="password-changed",
            template="accounts/password_changed",
            context=context,
            to_address=address,
        )


# --- password reset ---------------------------------------------------------------------------
RESET_REQUESTS_PER_PERIOD = 5
RESET_REQUEST_PERIOD = timedelta(hours=1)


def request_password_reset(platform: Platform, identifier: str, *, ip: str | None = None) -> None:
    """E-mails a single-use reset link. Answers the same whether or not the account exists."""
    with platform.transaction() as session:
        account = _find_for_recovery(session, identifier)
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
        valid_minutes = platform.settings.password_reset_valid_minutes
        reset_url = _new_reset_link(session, platform, account)
        _event(session, platform, account.id, "password_reset_requested", ip=ip)
        for address in rules.security_addresses(account.email, account.backup_email):
            send_service_email(
                session,
                platform,
                account=account,
                kind="password-reset",
                template="accounts/password_reset",
                context={"reset_url": reset_url, "valid_minutes": valid_minutes},
                to_address=address,
            )


def _new_reset_link(session: Session, platform: Platform, account: Account) -> str:
    """A new single-use reset link for the account (its token is kept hashed)."""
    now = platform.now()
    token = rules.new_reset_token()
    session.add(
        PasswordReset(
            token_hash=rules.sha256_hex(token),
            account_id=account.id,
            created_at=now,
            expires_at=now + timedelta(minutes=platform.settings.password_reset_valid_minutes),
        )
    )
    return f"{platform.settings.base_url.rstrip('/')}/password-reset/{token}"


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
    """Sets a new password from a reset link; the link is used up, web sessions end, API tokens
    are revoked, the login lock is lifted and the account and backup address are told."""
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
        # Whoever knew the old password is out: every web session ends, every token is revoked.
        _end_sessions(session, account.id)
        revoked = _revoke_tokens(session, platform, account.id)
        _tell_password_changed(session, platform, account, "reset", ip, revoked)
        # The reset link came through the owner's mailbox: the login lock and waits are lifted.
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.account_id == account.id, LoginAttempt.succeeded.is_(False)
            )
        )
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
        for address in rules.security_addresses(account.email, account.backup_email):
            send_service_email(
                session,
                platform,
                account=account,
                kind="totp-enabled",
                template="accounts/totp_enabled",
                context={"security_url": _customer_space_url(platform)},
                to_address=address,
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
    reauthentication_wait(platform, account_id, ip)
    failure: DomainError | None = None
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        if account.totp_secret is None:
            raise TotpNotOn()
        if not verify_secret(account.password_hash, password or ""):
            failure = WrongPassword(fields={"password": WrongPassword.message})
        elif _consume_second_factor(session, platform, account, code) is None:
            failure = InvalidTotpCode(fields={"code": InvalidTotpCode.message})
        else:
            _turn_totp_off(session, platform, account, ip=ip, user_agent=user_agent)
    if failure is not None:
        record_reauthentication_failure(platform, account_id, ip, user_agent)
        raise failure


def _turn_totp_off(
    session: Session,
    platform: Platform,
    account: Account,
    *,
    ip: str | None,
    user_agent: str | None,
) -> None:
    account.totp_secret = None
    account.totp_pending_secret = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    _event(session, platform, account.id, "totp_disabled", ip=ip, user_agent=user_agent)
    for address in rules.security_addresses(account.email, account.backup_email):
        send_service_email(
            session,
            platform,
            account=account,
            kind="totp-disabled",
            template="accounts/totp_disabled",
            context={"security_url": _customer_space_url(platform)},
            to_address=address,
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


def list_security_events(
    platform: Platform, account_id: str, limit: int = 50, cursor: str | None = None
) -> Page[SecurityEvent]:
    """Newest first."""
    limit = _limit(limit)
    query = select(SecurityEvent).where(SecurityEvent.account_id == account_id)
    position = cursor_key(cursor, int)
    if position is not None:
        query = query.where(SecurityEvent.id < position[0])
    with platform.session() as session:
        rows = list(session.scalars(query.order_by(SecurityEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)
