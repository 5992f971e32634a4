"""Service SMS: kept like the service e-mails, sent through an SMS gateway adapter.

Which gateway runs is a setting:
- `VOIPDESK_SMS_GATEWAY_URL` unset: the embedded default. The SMS is stored (status `stored`) and
  shown in the back office and the customer space; nothing leaves the platform.
- set: `HttpSmsGateway` POSTs `{"to": "+33...", "text": "...", "reference": "<sms id>"}` as JSON
  to that URL, with `Authorization: Bearer <VOIPDESK_SMS_GATEWAY_TOKEN>` when a token is set; a
  2xx answer is a success (its JSON `id`, if any, is kept as the gateway's reference). The
  `reference` lets a gateway drop a repeated delivery (the outbox delivers at least once).

The SMS is stored in the same transaction as the change that causes it and delivered by the
outbox, so a rolled-back change sends nothing.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account, ServiceSms
from voipdesk.core.outbox import Outcome, enqueue
from voipdesk.core.platform import Platform

SEND_TOPIC = "sms.send"
STATUS_STORED = "stored"
STATUS_QUEUED = "queued"
STATUS_SENT = "sent"
MAX_LENGTH = 640  # four concatenated SMS
TIMEOUT_SECONDS = 15


class SmsGateway(Protocol):
    def send(self, to_number: str, text: str, reference: str) -> str | None:
        """Sends one SMS; returns the gateway's reference. Raises on a refusal (retried)."""
        ...


class SmsGatewayError(Exception):
    pass


class HttpSmsGateway:
    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.token = token

    def send(self, to_number: str, text: str, reference: str) -> str | None:
        body = json.dumps({"to": to_number, "text": text, "reference": reference}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                status = answer.status
                payload = answer.read(10_000)
        except OSError as error:  # refused, timed out, or an HTTP error status
            raise SmsGatewayError(f"SMS gateway: {error}") from error
        if not 200 <= status < 300:
            raise SmsGatewayError(f"SMS gateway answered {status}")
        try:
            found: Any = json.loads(payload or b"{}")
        except ValueError:
            return None
        return str(found["id"])[:100] if isinstance(found, dict) and "id" in found else None


def gateway(platform: Platform) -> SmsGateway | None:
    """The configured gateway; None for the embedded default (store only)."""
    url = platform.settings.sms_gateway_url
    if not url:
        return None
    return HttpSmsGateway(url, platform.settings.sms_gateway_token)


def send_service_sms(
    session: Session,
    platform: Platform,
    *,
    account: Account,
    kind: str,
    text: str,
    to_number: str | None = None,
) -> ServiceSms | None:
    """Stores an SMS to the account's mobile (or `to_number`) and queues its delivery when a
    gateway is configured. None when there is no number to send it to."""
    number = to_number or account.mobile
    if not number:
        return None
    configured = gateway(platform) is not None
    sms = ServiceSms(
        account_id=account.id,
        kind=kind[:60],
        to_number=number[:20],
        body=text[:MAX_LENGTH],
        created_at=platform.now(),
        status=STATUS_QUEUED if configured else STATUS_STORED,
    )
    session.add(sms)
    session.flush()
    if configured:
        enqueue(
            session,
            SEND_TOPIC,
            {"sms_id": sms.id},
            platform.now(),
            dedup_key=f"sms.send:{sms.id}",
        )
    return sms


def deliver(platform: Platform, sms_id: str) -> Outcome | None:
    """The outbox handler's work: sends a queued SMS once (a sent one is left), with no
    transaction open while the gateway answers; returns what marks it sent, recorded with the
    message's delivery."""
    chosen = gateway(platform)
    with platform.session() as session:
        sms = session.get(ServiceSms, sms_id)
        if sms is None or sms.status == STATUS_SENT or chosen is None:
            return None
        to_number, body = sms.to_number, sms.body
    reference = chosen.send(to_number, body, sms_id)
    sent_at = platform.now()

    def mark_sent(session: Session) -> None:
        session.execute(
            update(ServiceSms)
            .where(ServiceSms.id == sms_id)
            .values(status=STATUS_SENT, sent_at=sent_at, gateway_reference=reference)
        )

    return mark_sent
