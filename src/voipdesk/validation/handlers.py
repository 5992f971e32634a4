"""Outbox delivery of the validation area."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from voipdesk.core.outbox import handler
from voipdesk.core.platform import Platform
from voipdesk.validation.actions import SEND_TOPIC, deliver_pending_procedure


@handler(SEND_TOPIC)
def send_procedure_email(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """Sends the PDF of a procedure opened at an order's payment (idempotent: sent once)."""
    deliver_pending_procedure(platform, session, str(payload["procedure_id"]))
