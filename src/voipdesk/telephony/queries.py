"""What other areas (and the switch) read from telephony: plain functions and dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.telephony import rules
from voipdesk.telephony.models import RoutingRecord


@dataclass(frozen=True)
class Routing:
    number: str
    kind: str
    version: int
    record: dict[str, Any]


def routing_record_for(session: Session, sip_user_or_number: str) -> Routing | None:
    """The compiled record of a line or number, by its SIP username ("33412345678") or its E.164
    number ("+33412345678"): one primary-key or unique-index lookup."""
    key = (sip_user_or_number or "").strip()
    column = RoutingRecord.number if key.startswith("+") else RoutingRecord.sip_username
    row = session.execute(
        select(
            RoutingRecord.number, RoutingRecord.kind, RoutingRecord.version, RoutingRecord.record
        ).where(column == key)
    ).first()
    if row is None:
        return None
    return Routing(number=row[0], kind=row[1], version=row[2], record=dict(row[3]))


def star_codes() -> tuple[rules.StarCode, ...]:
    """The star-code table (data the switch reads; the help page lists it)."""
    return rules.STAR_CODES
