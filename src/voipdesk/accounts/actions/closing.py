"""Closing an account: refused with every reason the areas give (they register blockers in
`voipdesk.accounts.closure`); else a confirmation link is e-mailed, and only following it closes
the account: sessions and tokens end and personal data is erased."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from voipdesk.accounts.actions.common import (
    _account,
    _event,
    verify_secret,
)
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.errors import (
    ClosureLinkInvalid,
    ClosureRefused,
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
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform

# --- closure ----------------------------------------------------------------------------------
CLOSURE_LINK_VALID = timedelta(hours=24)


@dataclass(frozen=True)
class ClosureReason:
    """One reason the account cannot be closed yet, translated, with the page that resolves it."""

    code: str
    message: str
    link: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "link": self.link}


@dataclass(frozen=True)
class ClosureRequested:
    sent_to: str
    expires_at: datetime
    token: str  # for the e-mail only; the API never returns it


def _reasons(session: Session, account: Account, language: str) -> list[ClosureReason]:
    from voipdesk.accounts.closure import blockers

    return [
        ClosureReason(r.code, gettext(language, r.message, **r.values), r.link)
        for r in blockers(session, account)
    ]


def closure_reasons(platform: Platform, account_id: str, language: str) -> list[ClosureReason]:
    """What stops the account from being closed now (empty: it can be closed)."""
    with platform.session() as session:
        return _reasons(session, _account(session, account_id), language)


def _refuse_if_blocked(session: Session, account: Account) -> None:
    reasons = _reasons(session, account, account.language)
    if reasons:
        raise ClosureRefused(extra={"reasons": [reason.as_dict() for reason in reasons]})


def _closure_signature(platform: Platform, account: Account, expires: int) -> str:
    # Bound to the password hash: a password change, or the closure itself, voids the link.
    key = platform.settings.secret_key.encode()
    message = f"closure:{account.id}:{expires}:{account.password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def request_closure(
    platform: Platform,
    account_id: str,
    password: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> ClosureRequested:
    """Asks to close the account: refused with every reason the areas list (active services,
    unpaid invoices, orders in progress) and nothing changes; else an e-mail carries a link,
    valid 24 hours, and the account is closed only when it is followed. A wrong password counts
    like a failed login (per account and address)."""
    from voipdesk.accounts.actions.security import (
        reauthentication_wait,
        record_reauthentication_failure,
    )

    reauthentication_wait(platform, account_id, ip)
    with platform.session() as session:
        right = verify_secret(_account(session, account_id).password_hash, password or "")
    if not right:
        record_reauthentication_failure(platform, account_id, ip, user_agent)
        raise WrongPassword(fields={"password": WrongPassword.message})
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
        _refuse_if_blocked(session, account)
        now = platform.now()
        expires_at = (now + CLOSURE_LINK_VALID).replace(microsecond=0)
        expires = int(expires_at.timestamp())
        token = f"{account.id}.{expires}.{_closure_signature(platform, account, expires)}"
        link = f"{platform.settings.base_url.rstrip('/')}/closure/{token}"
        send_service_email(
            session,
            platform,
            account=account,
            kind="account-closure-confirmation",
            template="accounts/account_closure_confirmation",
            context={"link": link, "expires_at": expires_at},
        )
        _event(session, platform, account.id, "account_closure_requested")
        return ClosureRequested(sent_to=account.email, expires_at=expires_at, token=token)


def _account_of_closure_token(session: Session, platform: Platform, token: str) -> Account:
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise ClosureLinkInvalid()
    account_id, expires_text, signature = parts
    account = session.get(Account, account_id, with_for_update=True)
    if account is None or account.closed_at is not None:
        raise ClosureLinkInvalid()
    expires = int(expires_text)
    expected = _closure_signature(platform, account, expires)
    if not hmac.compare_digest(expected, signature) or expires <= platform.now().timestamp():
        raise ClosureLinkInvalid()
    return account


def check_closure_token(platform: Platform, token: str) -> Account:
    with platform.session() as session:
        return _account_of_closure_token(session, platform, token)


def confirm_closure(platform: Platform, token: str) -> Account:
    """Follows the e-mailed link: the blockers are checked again (something may have been
    ordered since), then the account is closed for good."""
    with platform.transaction() as session:
        account = _account_of_closure_token(session, platform, token)
        _refuse_if_blocked(session, account)
        _close(session, platform, account)
    return account


def _close(session: Session, platform: Platform, account: Account) -> None:
    """Ends every web session and API token and erases personal data; records are kept."""
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
