"""Adding and removing abbreviated numbers (one transaction each, logged in the history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.catalogue.rules import OFFER_LABELS
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscriptions
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.subscriptions import services as subscription_services
from voipdesk.telephony.abbreviated import errors, rules
from voipdesk.telephony.abbreviated.models import AbbreviatedNumber
from voipdesk.telephony.aliases.actions import region_of
from voipdesk.telephony.aliases.rules import normalise_number


@dataclass(frozen=True)
class AbbreviatedView:
    id: str
    scope: str
    line: str | None
    code: str
    name: str
    destination: str
    created_at: datetime
    warnings: tuple[str, ...] = ()  # English msgids


def view_of(row: AbbreviatedNumber, warnings: list[str] | None = None) -> AbbreviatedView:
    return AbbreviatedView(
        id=row.id,
        scope=row.scope,
        line=row.line_number,
        code=row.code,
        name=row.name,
        destination=row.destination_e164,
        created_at=row.created_at,
        warnings=tuple(warnings or ()),
    )


def _line(
    session: Session, account_id: str, group_id: str, number: str
) -> subscriptions.ServiceView:
    return subscriptions.numbered_service(
        session, account_id, group_id, number, subscription_rules.LINE_KINDS
    )


def add(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    *,
    code: str,
    name: str,
    destination: str,
    actor: str,
    line: str | None = None,
) -> AbbreviatedView:
    """An abbreviated number of the group (`line` None) or of one of its lines. Refused out of
    its range, already used, to an invalid number, or on a line whose offer has none."""
    group = subscriptions.account_group(session, account_id, group_id)
    code = (code or "").strip()
    service = None
    if line is not None:
        service = _line(session, account_id, group_id, line)
        if not rules.line_may_have_abbreviated_numbers(service.offer_code):
            raise errors.AbbreviatedNotOnOffer(
                number=service.number,
                offer=OFFER_LABELS.get(service.offer_code, service.offer_code),
            )
    scope = rules.LINE if service is not None else rules.GROUP
    warnings = rules.check_code(scope, code)
    target = normalise_number(destination, region_of(session, group.id))
    key = rules.scope_key(scope, service.id if service is not None else group.id)
    existing = session.scalar(
        select(AbbreviatedNumber).where(
            AbbreviatedNumber.scope_key == key, AbbreviatedNumber.code == code
        )
    )
    if existing is not None:
        raise errors.AbbreviatedAlreadyUsed(
            abbreviated=code, name=existing.name, fields={"code": "Already used."}
        )
    row = AbbreviatedNumber(
        billing_group_id=group.id,
        scope=scope,
        scope_key=key,
        line_number=service.number if service is not None else None,
        code=code,
        name=name.strip()[: rules.NAME_LENGTH],
        destination_e164=target,
        created_at=platform.now(),
        created_by=actor[:60],
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent request took the code first
        raise errors.AbbreviatedAlreadyUsed(
            abbreviated=code, name=name, fields={"code": "Already used."}
        ) from None
    subscription_services.record_history(
        session,
        platform,
        group.id,
        service.id if service is not None else None,
        actor,
        f"abbreviated number {code} ({row.name}) to {target} added",
    )
    return view_of(row, warnings)


def remove(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    code: str,
    actor: str,
    line: str | None = None,
) -> None:
    group = subscriptions.account_group(session, account_id, group_id)
    service = _line(session, account_id, group_id, line) if line is not None else None
    key = (
        rules.scope_key(rules.LINE, service.id)
        if service is not None
        else rules.scope_key(rules.GROUP, group.id)
    )
    row = session.scalar(
        select(AbbreviatedNumber).where(
            AbbreviatedNumber.scope_key == key, AbbreviatedNumber.code == code
        )
    )
    if row is None:
        raise errors.AbbreviatedNotFound(abbreviated=code)
    session.delete(row)
    subscription_services.record_history(
        session,
        platform,
        group.id,
        service.id if service is not None else None,
        actor,
        f"abbreviated number {code} ({row.name}) removed",
    )
