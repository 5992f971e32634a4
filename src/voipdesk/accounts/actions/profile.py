"""The customer's profile: reading it, and changing it with the same checks as at sign-up."""

from __future__ import annotations

from voipdesk.accounts import rules
from voipdesk.accounts.actions.common import (
    PROFILE_FIELDS,
    ProfileUpdate,
    _account,
    _clean_profile,
    _email_used,
    _event,
)
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.errors import (
    EmailAlreadyUsed,
)
from voipdesk.accounts.models import (
    Account,
)
from voipdesk.core.platform import Platform


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
            # The old address hears of it, and the backup one: if the account was taken over,
            # its owner knows.
            for address in rules.security_addresses(current["email"], account.backup_email):
                send_service_email(
                    session,
                    platform,
                    account=account,
                    kind="email-changed",
                    template="accounts/email_changed",
                    context={"old_email": current["email"], "new_email": account.email},
                    to_address=address,
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
