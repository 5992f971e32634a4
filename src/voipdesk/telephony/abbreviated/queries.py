"""Reading abbreviated numbers: the lists of the pages and API, the switch's dial plan."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.subscriptions import queries as subscriptions
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.abbreviated import rules
from voipdesk.telephony.abbreviated.actions import AbbreviatedView, view_of
from voipdesk.telephony.abbreviated.models import AbbreviatedNumber


def group_abbreviated(session: Session, account_id: str, group_id: str) -> list[AbbreviatedView]:
    group = subscriptions.account_group(session, account_id, group_id)
    rows = session.scalars(
        select(AbbreviatedNumber)
        .where(AbbreviatedNumber.scope_key == rules.scope_key(rules.GROUP, group.id))
        .order_by(AbbreviatedNumber.code)
    )
    return [view_of(row) for row in rows]


def line_abbreviated(
    session: Session, account_id: str, group_id: str, number: str
) -> list[AbbreviatedView]:
    line = subscriptions.numbered_service(
        session, account_id, group_id, number, subscription_rules.LINE_KINDS
    )
    rows = session.scalars(
        select(AbbreviatedNumber)
        .where(AbbreviatedNumber.scope_key == rules.scope_key(rules.LINE, line.id))
        .order_by(AbbreviatedNumber.code)
    )
    return [view_of(row) for row in rows]


def dial_plan(session: Session, line_number: str) -> dict[str, str]:
    """Code -> E.164 destination for calls from this line: its own codes and its group's, none
    when the line's offer has no abbreviated numbers. (Indexed by group and line.)"""
    line = subscriptions.live_line_by_number(session, line_number)
    if line is None or not rules.line_may_have_abbreviated_numbers(line.offer_code):
        return {}
    rows = session.execute(
        select(AbbreviatedNumber.code, AbbreviatedNumber.destination_e164).where(
            AbbreviatedNumber.billing_group_id == line.billing_group_id,
            (AbbreviatedNumber.line_number.is_(None))
            | (AbbreviatedNumber.line_number == line.number),
        )
    ).all()
    return dict(rows)
