"""SIP credentials of a line: what a phone needs to register, and a new password on request.

Only the digest HA1 is kept (subscriptions stores it on the line); the password is returned once,
by the call that made it, and the old one is refused from the next registration on (the routing
record is rebuilt in the same transaction)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony import errors
from voipdesk.telephony.actions.lines import actor_of_account, line

PASSWORD_LENGTH = 24
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class SipAccount:
    """What a phone or softphone needs (never the password: it is not kept)."""

    username: str
    domain: str
    port: int
    transport: str
    password_set: bool


@dataclass(frozen=True)
class NewSipPassword:
    account: SipAccount
    password: str  # shown once


def strong_password() -> str:
    """24 letters and digits from the system's secure random source (about 143 bits)."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


def sip_account(
    session: Session, platform: Platform, account_id: str, group_id: str, number: str
) -> SipAccount:
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    settings = platform.settings
    return SipAccount(
        username=facts.sip_username or (facts.number or "").lstrip("+"),
        domain=settings.sip_domain,
        port=settings.sip_port,
        transport=settings.sip_transport,
        password_set=facts.sip_ha1 is not None,
    )


def reset_sip_password(
    session: Session, platform: Platform, account_id: str, group_id: str, number: str
) -> NewSipPassword:
    """A new strong password, returned once; the old one is refused at once."""
    facts = line(session, account_id, group_id, number)
    if not facts.is_line:
        raise errors.NoSipCredentials()
    username = facts.sip_username or (facts.number or "").lstrip("+")
    password = strong_password()
    ha1 = subscription_rules.digest_ha1(username, platform.settings.sip_domain, password)
    subscriptions.set_sip_ha1(
        session, platform, facts.service_id, ha1, actor_of_account(account_id)
    )
    settings = platform.settings
    return NewSipPassword(
        SipAccount(username, settings.sip_domain, settings.sip_port, settings.sip_transport, True),
        password,
    )
