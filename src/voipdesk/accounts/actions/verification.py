"""Verifying the account's e-mail address by a link (sent in the welcome e-mail, or again on
demand). The link carries a token derived from the secret key, the account and the address, so a
change of address makes old links useless; a verification is recorded in the security log
(`email_verified`, with the address), which is also where it is read back."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts.actions.common import _event
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.errors import EmailLinkInvalid
from voipdesk.accounts.models import Account, SecurityEvent
from voipdesk.core.platform import Platform

VERIFIED = "email_verified"


def verification_token(platform: Platform, account_id: str, email: str) -> str:
    key = platform.settings.secret_key.encode()
    message = f"verify-email:{account_id}:{email.lower()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def verification_url(platform: Platform, account: Account) -> str:
    token = verification_token(platform, account.id, account.email)
    return f"{platform.settings.base_url.rstrip('/')}/verify-email/{account.id}/{token}"


def email_verified(session: Session, account: Account) -> bool:
    """Whether the account's current address was verified (a later change needs a new link)."""
    events = session.scalars(
        select(SecurityEvent).where(
            SecurityEvent.account_id == account.id, SecurityEvent.kind == VERIFIED
        )
    )
    return any((event.details or {}).get("email") == account.email for event in events)


def is_email_verified(platform: Platform, account_id: str) -> bool:
    with platform.session() as session:
        account = session.get(Account, account_id)
        return account is not None and email_verified(session, account)


def verify_email(
    platform: Platform, account_id: str, token: str, *, ip: str | None = None
) -> Account:
    """Records the verification of the account's address; a link used twice changes nothing."""
    with platform.transaction() as session:
        account = session.get(Account, account_id)
        if account is None or not hmac.compare_digest(
            token, verification_token(platform, account_id, account.email)
        ):
            raise EmailLinkInvalid()
        if not email_verified(session, account):
            _event(session, platform, account.id, VERIFIED, ip=ip, email=account.email)
        session.expunge(account)
        return account


def send_verification_link(platform: Platform, account_id: str) -> None:
    """E-mails the verification link again (to the account's current address)."""
    with platform.transaction() as session:
        account = session.get(Account, account_id)
        if account is None or email_verified(session, account):
            return
        send_service_email(
            session,
            platform,
            account=account,
            kind="email-verification",
            template="accounts/verify_email",
            context={"verify_url": verification_url(platform, account)},
        )
