"""Signing up: a customer account with a generated handle, its first device, the welcome e-mail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.accounts import rules
from voipdesk.accounts.actions.common import (
    PROFILE_FIELDS,
    SignUpData,
    _clean_profile,
    _customer_space_url,
    _email_used,
    _event,
    _password_inputs,
    check_password_policy,
    hash_secret,
)
from voipdesk.accounts.actions.verification import verification_url
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.errors import (
    EmailAlreadyUsed,
)
from voipdesk.accounts.models import (
    Account,
    KnownDevice,
)
from voipdesk.core.platform import Platform


def _new_handle(session: Session, platform: Platform, first_name: str, last_name: str) -> str:
    suffix = platform.settings.operator_handle_suffix
    for _attempt in range(50):
        handle = rules.make_handle(first_name, last_name, suffix)
        if session.scalar(select(Account.id).where(Account.handle == handle)) is None:
            return handle
    raise RuntimeError("no free handle after 50 tries")  # 100,000 per initials: a full table


# --- sign up ----------------------------------------------------------------------------------
def sign_up(
    platform: Platform,
    data: SignUpData,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    device_id: str | None = None,
    accepted: tuple[str, ...] = (),
) -> Account:
    """Creates a customer account with a generated handle and sends the welcome e-mail.
    `device_id` (the browser's) is remembered so that logging in from it is not announced;
    `accepted` names the documents the person accepted ("terms", "privacy"), each recorded in
    the security log with its time, address and browser."""
    values = _clean_profile(data.model_dump(exclude={"password"}))
    check_password_policy(data.password, values["language"], _password_inputs(values))
    password_hash = hash_secret(data.password)
    for _attempt in range(3):
        try:
            return _create_account(
                platform,
                values,
                password_hash,
                ip=ip,
                user_agent=user_agent,
                device_id=device_id,
                accepted=accepted,
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
    accepted: tuple[str, ...] = (),
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
        for document in accepted:
            _event(
                session,
                platform,
                account.id,
                f"{document}_accepted",
                ip=ip,
                user_agent=user_agent,
                version=platform.settings.terms_version,
            )
        if welcome:
            send_service_email(
                session,
                platform,
                account=account,
                kind="welcome",
                template="accounts/welcome",
                context={
                    "handle": account.handle,
                    "space_url": _customer_space_url(platform),
                    "verify_url": verification_url(platform, account),
                },
            )
    return account
