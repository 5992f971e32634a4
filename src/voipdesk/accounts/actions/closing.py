"""Closing an account: refused with every reason the areas give (they register blockers in
`voipdesk.accounts.closure`), else sessions and tokens end and personal data is erased."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from voipdesk.accounts.actions.common import (
    _account,
    _event,
    verify_secret,
)
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.errors import (
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
    from voipdesk.accounts.actions.security import (
        reauthentication_wait,
        record_reauthentication_failure,
    )
    from voipdesk.accounts.closure import blockers

    reauthentication_wait(platform, account_id, ip)
    with platform.session() as session:
        right = verify_secret(_account(session, account_id).password_hash, password or "")
    if not right:  # counted like a failed login (per account and address)
        record_reauthentication_failure(platform, account_id, ip, user_agent)
        raise WrongPassword(fields={"password": WrongPassword.message})
    with platform.transaction() as session:
        account = _account(session, account_id, lock=True)
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
