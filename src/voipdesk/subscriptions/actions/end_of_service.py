"""End of service: renewal mode, cancellation at expiry, deletion now (e-mailed link)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.changes import (
    _check_live,
    record,
)
from voipdesk.subscriptions.actions.reading import (
    describe,
    get_account_service,
)
from voipdesk.subscriptions.actions.terminations import _check_reason, pool_members
from voipdesk.subscriptions.listeners import services_changed
from voipdesk.subscriptions.models import (
    DeletionRequest,
    PendingChange,
    PhoneLoan,
    Service,
)


# End of service (service management)
# --------------------------------------------------------------------------------------------------
def set_renewal_mode(
    session: Session, platform: Platform, account_id: str, service_id: str, mode: str
) -> Service:
    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    if mode not in rules.RENEWAL_MODES:
        from voipdesk.core.errors import InvalidInput

        raise InvalidInput(fields={"renewal_mode": "Choose automatic or manual."})
    if mode == rules.AUTOMATIC and service.renewal_mode != mode:
        from voipdesk.payments.services import default_payment_method

        default = default_payment_method(session, account_id)
        if default is None or default.method_type not in ("card", "sepa_debit"):
            raise errors.DefaultPaymentMethodRequired()
    if service.renewal_mode != mode:
        service.renewal_mode = mode
        record(
            session,
            platform,
            service.billing_group_id,
            service.id,
            f"account:{account_id}",
            f"renewal {mode}",
        )
    return service


def cancel_at_expiry(
    session: Session,
    platform: Platform,
    account_id: str,
    service_id: str,
    reason: str,
    details: str | None,
) -> Service:
    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    _check_reason(reason, details)
    service.cancel_at_expiry = True
    service.cancel_reason = reason
    service.cancel_details = (details or "").strip() or None
    record(
        session,
        platform,
        service.billing_group_id,
        service.id,
        f"account:{account_id}",
        "cancel at expiry",
    )
    return service


def undo_cancel_at_expiry(
    session: Session, platform: Platform, account_id: str, service_id: str
) -> Service:
    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    if service.cancel_at_expiry:
        service.cancel_at_expiry = False
        service.cancel_reason = None
        service.cancel_details = None
        record(
            session,
            platform,
            service.billing_group_id,
            service.id,
            f"account:{account_id}",
            "cancel undone",
        )
    return service


DELETE_LINK_VALID = timedelta(hours=24)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_delete_now(
    session: Session, platform: Platform, account_id: str, service_id: str
) -> str:
    """Sends the e-mail with a single-use confirmation link; returns the token (for the e-mail)."""
    from voipdesk.accounts.emails import send_service_email

    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    token = secrets.token_urlsafe(32)
    now = platform.now()
    session.add(
        DeletionRequest(
            id=new_id(),
            service_id=service.id,
            account_id=account_id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + DELETE_LINK_VALID,
        )
    )
    account = session.get(Account, account_id)
    assert account is not None
    link = f"{platform.settings.base_url.rstrip('/')}/services/delete-now/{token}"
    send_service_email(
        session,
        platform,
        account=account,
        kind="service-delete-confirmation",
        template="subscriptions/delete_now",
        context={"service": describe(service), "link": link, "token": token},
    )
    return token


def confirm_delete_now(
    session: Session, platform: Platform, account_id: str | None, token: str
) -> Service:
    request = session.scalar(
        select(DeletionRequest)
        .where(DeletionRequest.token_hash == _token_hash(token))
        .with_for_update()
    )
    now = platform.now()
    if (
        request is None
        or request.used_at is not None
        or request.expires_at <= now
        or (account_id is not None and request.account_id != account_id)
    ):
        raise errors.DeletionLinkInvalid()
    request.used_at = now
    service = session.get(Service, request.service_id, with_for_update=True)
    assert service is not None
    delete_service_now(session, platform, service, f"account:{request.account_id}")
    return service


def delete_service_now(session: Session, platform: Platform, service: Service, actor: str) -> None:
    """Deleted at once and for good: the service, its options (a pool number takes its pool)."""
    now = platform.now()
    targets = (
        pool_members(session, service) if service.kind == rules.KIND_ALIAS_NUMBER else [service]
    )
    ids = [target.id for target in targets]
    targets += list(
        session.scalars(
            select(Service).where(
                Service.parent_service_id.in_(ids), Service.state != rules.DELETED
            )
        )
    )
    for target in targets:
        target.state = rules.DELETED
        target.deleted_at = now
        target.sip_ha1 = None
        record(session, platform, target.billing_group_id, target.id, actor, "deleted now")
    services_changed(session, platform, [target.id for target in targets])
    for change in session.scalars(
        select(PendingChange).where(
            PendingChange.service_id.in_([t.id for t in targets]),
            PendingChange.state == rules.PENDING,
        )
    ):
        change.state = rules.CANCELLED
        change.cancelled_at = now
    for loan in session.scalars(
        select(PhoneLoan).where(
            PhoneLoan.service_id.in_([t.id for t in targets]), PhoneLoan.state == rules.LOAN_LENT
        )
    ):
        open_hardware_return(loan, platform.today())


def open_hardware_return(loan: PhoneLoan, today: date) -> None:
    loan.state = rules.LOAN_RETURN_OPENED
    loan.return_opened_on = today
    loan.return_due_on = today + timedelta(days=rules.RETURN_WITHIN_DAYS)
