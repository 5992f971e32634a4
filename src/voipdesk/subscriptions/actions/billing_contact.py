"""Billing-contact changes of a group: asked, accepted or refused, waiting for validation."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.changes import (
    record,
)
from voipdesk.subscriptions.actions.reading import (
    get_group,
)
from voipdesk.subscriptions.models import (
    BillingContactChange,
    BillingGroup,
    Service,
)


# Billing contact
# --------------------------------------------------------------------------------------------------
def find_contact(session: Session, handle_or_email: str) -> Account:
    """A customer account named by its handle or e-mail (closed and staff accounts excluded)."""
    wanted = (handle_or_email or "").strip().lower()
    account = (
        session.scalar(
            select(Account).where(
                or_(Account.handle == wanted, func.lower(Account.email) == wanted),
                Account.closed_at.is_(None),
                Account.is_staff.is_(False),
            )
        )
        if wanted
        else None
    )
    if account is None:
        raise errors.BillingContactUnknown(
            contact=handle_or_email,
            fields={"billing_contact": "Give the handle or e-mail of an open customer account."},
        )
    return account


def waiting_contact_change(session: Session, group_id: str) -> BillingContactChange | None:
    return session.scalar(
        select(BillingContactChange).where(BillingContactChange.waiting_for_group == group_id)
    )


def request_billing_contact_change(
    session: Session, platform: Platform, account_id: str, group_id: str, new_contact: str
) -> BillingContactChange:
    """The owner names a new billing contact for the group; that contact is asked to accept."""
    from voipdesk.accounts.emails import send_service_email

    group = get_group(session, account_id, group_id, lock=True)
    contact = find_contact(session, new_contact)
    if contact.id == group.billing_account_id:
        raise errors.BillingContactUnchanged(
            contact=contact.handle, fields={"billing_contact": "Name another account."}
        )
    waiting = waiting_contact_change(session, group.id)
    if waiting is not None:
        waiting_for = session.get(Account, waiting.to_account_id)
        raise errors.BillingContactChangeWaiting(
            contact=waiting_for.handle if waiting_for else waiting.to_account_id
        )
    actor = f"account:{account_id}"
    change = BillingContactChange(
        id=new_id(),
        billing_group_id=group.id,
        waiting_for_group=group.id,
        from_account_id=group.billing_account_id,
        to_account_id=contact.id,
        state=rules.CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE,
        requested_at=platform.now(),
        requested_by=actor,
    )
    session.add(change)
    record(session, platform, group.id, None, actor, f"billing contact change to {contact.handle}")
    session.flush()
    owner = session.get(Account, group.account_id)
    assert owner is not None
    send_service_email(
        session,
        platform,
        account=contact,
        kind="billing-contact-request",
        template="subscriptions/billing_contact_request",
        context={
            "group_name": group.name,
            "owner": f"{owner.display_name} ({owner.handle})",
            "requests_url": f"{platform.settings.base_url.rstrip('/')}/telephony",
        },
    )
    return change


def incoming_contact_requests(session: Session, account_id: str) -> list[BillingContactChange]:
    """Requests to become the billing contact of someone's group, waiting for this account."""
    return list(
        session.scalars(
            select(BillingContactChange)
            .where(
                BillingContactChange.to_account_id == account_id,
                BillingContactChange.state == rules.CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE,
            )
            .order_by(BillingContactChange.requested_at, BillingContactChange.id)
        )
    )


def _incoming(session: Session, account_id: str, change_id: str) -> BillingContactChange:
    change = session.get(BillingContactChange, change_id, with_for_update=True)
    if (
        change is None
        or change.to_account_id != account_id
        or change.state != rules.CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE
    ):
        raise errors.BillingContactRequestNotFound()
    return change


def accept_billing_contact_request(
    session: Session, platform: Platform, account_id: str, change_id: str
) -> BillingContactChange:
    """The named contact accepts. It applies at once when that contact is validated for VoIP (or
    its country has no procedure); otherwise it waits, and the contact gets the procedure."""
    from voipdesk.validation.services import request_for_billing_contact_change

    change = _incoming(session, account_id, change_id)
    actor = f"account:{account_id}"
    record(session, platform, change.billing_group_id, None, actor, "billing contact accepted")
    procedure_id = request_for_billing_contact_change(
        session, platform, account_id, [change.billing_group_id]
    )
    if procedure_id is None:
        _apply_contact_change(session, platform, change, actor)
    else:
        _decide(change, rules.CONTACT_CHANGE_WAITING, platform)
        change.procedure_id = procedure_id
    return change


def refuse_billing_contact_request(
    session: Session, platform: Platform, account_id: str, change_id: str
) -> BillingContactChange:
    change = _incoming(session, account_id, change_id)
    _decide(change, rules.CONTACT_CHANGE_REFUSED, platform)
    record(
        session,
        platform,
        change.billing_group_id,
        None,
        f"account:{account_id}",
        "billing contact change refused",
    )
    return change


def cancel_billing_contact_change(
    session: Session, platform: Platform, account_id: str, group_id: str
) -> BillingContactChange:
    group = get_group(session, account_id, group_id, lock=True)
    change = waiting_contact_change(session, group.id)
    if change is None:
        raise errors.BillingContactChangeNotFound()
    _decide(change, rules.CONTACT_CHANGE_CANCELLED, platform)
    record(
        session,
        platform,
        group.id,
        None,
        f"account:{account_id}",
        "billing contact change cancelled",
    )
    return change


def release_billing_contact_changes(
    session: Session, platform: Platform, account_id: str
) -> list[BillingContactChange]:
    """Called when `account_id` is validated for VoIP: the changes waiting for it apply."""
    waiting = list(
        session.scalars(
            select(BillingContactChange)
            .where(
                BillingContactChange.to_account_id == account_id,
                BillingContactChange.state == rules.CONTACT_CHANGE_WAITING,
            )
            .order_by(BillingContactChange.requested_at, BillingContactChange.id)
            .with_for_update()
        )
    )
    for change in waiting:
        _apply_contact_change(session, platform, change, "validation")
    return waiting


def _decide(change: BillingContactChange, target: str, platform: Platform) -> None:
    if not rules.can_change_contact_state(change.state, target):
        raise errors.BillingContactChangeNotFound()
    change.state = target
    if target not in rules.CONTACT_CHANGE_OPEN_STATES:
        change.decided_at = platform.now()
        change.waiting_for_group = None


def _apply_contact_change(
    session: Session, platform: Platform, change: BillingContactChange, actor: str
) -> None:
    """The group and every service it holds are now invoiced to the new billing contact."""
    from voipdesk.accounts.emails import send_service_email

    group = session.get(BillingGroup, change.billing_group_id, with_for_update=True)
    assert group is not None
    _decide(change, rules.CONTACT_CHANGE_APPLIED, platform)
    group.billing_account_id = change.to_account_id
    session.execute(
        update(Service)
        .where(Service.billing_group_id == group.id, Service.state != rules.DELETED)
        .values(account_id=change.to_account_id)
    )
    new_contact = session.get(Account, change.to_account_id)
    assert new_contact is not None
    record(session, platform, group.id, None, actor, f"billing contact is now {new_contact.handle}")
    for recipient_id in dict.fromkeys((group.account_id, change.from_account_id, new_contact.id)):
        recipient = session.get(Account, recipient_id)
        if recipient is None or recipient.closed_at is not None:
            continue
        send_service_email(
            session,
            platform,
            account=recipient,
            kind="billing-contact-changed",
            template="subscriptions/billing_contact_changed",
            context={
                "group_name": group.name,
                "new_contact": f"{new_contact.display_name} ({new_contact.handle})",
                "is_new_contact": recipient.id == new_contact.id,
            },
        )
