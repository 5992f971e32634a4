"""The payment-provider interface, and the sandbox provider used by the demo and the tests.

Which provider runs is a setting, `VOIPDESK_PAYMENT_PROVIDER`:
- unset: none. Card payments and direct debits answer 503 `payment-provider-unavailable`, bank
  transfers still work. The sandbox is never switched on silently.
- `sandbox`: the built-in test provider below (the demo's and the tests' choice). Its confirmation
  page needs no login and its test cards pay: never for real money.
- `package.module:factory`: a real provider, in its own module. `factory(platform)` returns an
  object implementing `PaymentProvider` (below): `name` (also its webhook path,
  `POST /api/v1/payment-provider/<name>/webhook`), `tokenize_card`, `charge_card`, `debit_sepa`,
  `cancel`, `refund`, `verify_webhook` (checks the signature with
  `VOIPDESK_PAYMENT_WEBHOOK_SECRET`, never the session key, and returns a `WebhookEvent` whose
  `data` carries `amount` and `currency`: each event is checked against the payment it names
  before anything settles), and `confirm` (its confirmation step, or None when it has none).

A provider tokenises cards (card numbers never reach our tables), charges tokens, debits SEPA
mandates, cancels and refunds. Its results are authoritative when they arrive as signed webhooks
(HMAC-SHA256 over "timestamp.body"); synchronous answers are applied too, and both paths are
idempotent, so a result applied twice changes nothing.

Sandbox test cards (any future expiry date, any 3-digit CVC):
  4242 4242 4242 4242  succeeds
  4000 0000 0000 0002  is declined
  4000 0027 6000 3184  needs a confirmation step (3-D Secure) on the sandbox's confirmation page
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.errors import NotFound
from voipdesk.core.outbox import enqueue
from voipdesk.payments.errors import (
    InvalidCard,
    PaymentProviderUnavailable,
    WebhookSignatureInvalid,
)
from voipdesk.payments.models import SandboxCharge

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

SUCCEEDED = "succeeded"
FAILED = "failed"
REQUIRES_CONFIRMATION = "requires_confirmation"
PENDING = "pending"
CANCELLED = "cancelled"
REFUNDED = "refunded"

SIGNATURE_HEADER = "Sandbox-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300

TEST_CARD_SUCCEEDS = "4242424242424242"
TEST_CARD_DECLINED = "4000000000000002"
TEST_CARD_NEEDS_CONFIRMATION = "4000002760003184"
_TEST_CARDS = {
    TEST_CARD_SUCCEEDS: "succeeds",
    TEST_CARD_DECLINED: "declined",
    TEST_CARD_NEEDS_CONFIRMATION: "confirm",
}


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    reference: str
    status: str  # succeeded | failed | requires_confirmation | pending
    failure_code: str | None = None
    confirmation_url: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    event_type: str  # payment.succeeded | payment.failed | payment.refunded
    reference: str
    data: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str
    signature_header: str  # the HTTP header its webhooks carry their signature in

    def tokenize_card(
        self,
        session: Session,
        *,
        number: str,
        exp_month: int,
        exp_year: int,
        cvc: str,
        today: datetime,
    ) -> CardToken: ...

    def charge_card(
        self,
        session: Session,
        *,
        token: str,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ChargeResult: ...

    def debit_sepa(
        self,
        session: Session,
        *,
        mandate_reference: str,
        iban: str,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ChargeResult: ...

    def cancel(self, session: Session, reference: str) -> None: ...

    def refund(
        self,
        session: Session,
        reference: str,
        amount: Decimal | None = None,
        idempotency_key: str | None = None,
    ) -> str | None:
        """Refunds a charge: whole (`amount` None), or only `amount` of it (a deposit paid
        with an order). Returns the refund's own reference when the provider gives one; the
        same `idempotency_key` refunds once."""
        ...

    def verify_webhook(self, body: bytes, signature: str | None, now: datetime) -> WebhookEvent: ...

    def confirm(self, session: Session, reference: str, approve: bool) -> Any: ...


def luhn_valid(number: str) -> bool:
    digits = [int(ch) for ch in number]
    checksum = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        checksum += digit
    return checksum % 10 == 0


def webhook_secret(platform: Platform) -> bytes:
    """The provider's webhook signing secret (`VOIPDESK_PAYMENT_WEBHOOK_SECRET`), kept apart from
    the session key: knowing one never lets anybody forge the other."""
    secret = platform.settings.payment_webhook_secret
    if not secret:
        raise PaymentProviderUnavailable()
    return secret.encode()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class SandboxProvider:
    """Behaves like a card processor; its webhooks are sent through the outbox to our handler."""

    name = "sandbox"
    signature_header = SIGNATURE_HEADER

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # --- cards ---
    def tokenize_card(
        self,
        session: Session,
        *,
        number: str,
        exp_month: int,
        exp_year: int,
        cvc: str,
        today: datetime,
    ) -> CardToken:
        digits = "".join(ch for ch in number if ch.isdigit())
        if len(digits) < 12 or not luhn_valid(digits):
            raise InvalidCard(
                "The card number is not valid.", fields={"card.number": "Not a card number."}
            )
        if not (1 <= exp_month <= 12) or (exp_year, exp_month) < (today.year, today.month):
            raise InvalidCard(
                "The card has expired.", fields={"card.exp_month": "The card has expired."}
            )
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise InvalidCard(
                "The security code is not valid.", fields={"card.cvc": "3 or 4 digits."}
            )
        outcome = _TEST_CARDS.get(digits)
        if outcome is None:
            raise InvalidCard(
                "The sandbox accepts its test cards only.",
                fields={"card.number": "Use a sandbox test card."},
            )
        return CardToken(
            token=f"sbx_tok_{outcome}_{secrets.token_hex(8)}",
            brand="visa",
            last4=digits[-4:],
            exp_month=exp_month,
            exp_year=exp_year,
        )

    def charge_card(
        self,
        session: Session,
        *,
        token: str,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        existing = session.scalar(
            select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return self._result(existing)
        outcome = token.split("_")[2] if token.startswith("sbx_tok_") else "declined"
        status = {"succeeds": SUCCEEDED, "declined": FAILED, "confirm": REQUIRES_CONFIRMATION}[
            outcome
        ]
        charge = self._book(
            session, token, amount, currency, description, idempotency_key, metadata, status
        )
        if status != REQUIRES_CONFIRMATION:
            self._emit(session, charge)
        return self._result(charge)

    def debit_sepa(
        self,
        session: Session,
        *,
        mandate_reference: str,
        iban: str,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        existing = session.scalar(
            select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return self._result(existing)
        # A direct debit is collected later: pending now, its success comes as a webhook.
        charge = self._book(
            session,
            f"sepa:{mandate_reference}",
            amount,
            currency,
            description,
            idempotency_key,
            metadata,
            PENDING,
        )
        charge.status = SUCCEEDED
        self._emit(session, charge)
        return ChargeResult(charge.reference, PENDING)

    def confirm(self, session: Session, reference: str, approve: bool) -> SandboxCharge | None:
        """The customer's answer on the sandbox's confirmation (3-D Secure) page."""
        charge = session.get(SandboxCharge, reference, with_for_update=True)
        if charge is None or charge.status != REQUIRES_CONFIRMATION:
            return charge
        charge.status = SUCCEEDED if approve else FAILED
        charge.updated_at = self.platform.now()
        self._emit(session, charge)
        return charge

    def cancel(self, session: Session, reference: str) -> None:
        charge = session.get(SandboxCharge, reference, with_for_update=True)
        if charge is not None and charge.status == REQUIRES_CONFIRMATION:
            charge.status = CANCELLED
            charge.updated_at = self.platform.now()

    def refund(
        self,
        session: Session,
        reference: str,
        amount: Decimal | None = None,
        idempotency_key: str | None = None,
    ) -> str | None:
        charge = session.get(SandboxCharge, reference, with_for_update=True)
        if amount is None:
            if charge is not None and charge.status == SUCCEEDED:
                charge.status = REFUNDED
                charge.updated_at = self.platform.now()
                self._emit(session, charge)
            return reference
        # A partial refund is a booking of its own, pointing at the charge it refunds.
        key = idempotency_key or f"refund:{reference}:{amount}"
        existing = session.scalar(select(SandboxCharge).where(SandboxCharge.idempotency_key == key))
        if existing is not None:
            return existing.reference
        if charge is None or charge.status != SUCCEEDED:
            raise InvalidCard(
                "The sandbox has no successful charge %(reference)s to refund.",
                reference=reference,
            )
        refunded = sum(
            (
                row.amount
                for row in session.scalars(
                    select(SandboxCharge).where(SandboxCharge.token == f"refund:{reference}")
                )
            ),
            Decimal("0"),
        )
        if refunded + amount > charge.amount:
            raise InvalidCard(
                "The sandbox cannot refund more than %(amount)s of %(reference)s.",
                amount=f"{charge.amount - refunded:.2f}",
                reference=reference,
            )
        booked = self._book(
            session,
            f"refund:{reference}",
            amount,
            charge.currency,
            f"Refund of {reference}",
            key,
            {"refund_of": reference},
            REFUNDED,
        )
        return booked.reference

    # --- webhooks ---
    def verify_webhook(self, body: bytes, signature: str | None, now: datetime) -> WebhookEvent:
        if not signature:
            raise WebhookSignatureInvalid()
        parts = dict(item.split("=", 1) for item in signature.split(",") if "=" in item)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError:
            raise WebhookSignatureInvalid() from None
        expected = sign(webhook_secret(self.platform), body, timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise WebhookSignatureInvalid()
        if abs(now.timestamp() - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
            raise WebhookSignatureInvalid()
        try:
            payload = json.loads(body)
            return WebhookEvent(
                event_id=str(payload["id"]),
                event_type=str(payload["type"]),
                reference=str(payload["data"]["reference"]),
                data=dict(payload["data"]),
            )
        except (ValueError, KeyError, TypeError):
            raise WebhookSignatureInvalid() from None

    def signed_event(self, event: dict[str, Any]) -> tuple[bytes, str]:
        body = json.dumps(event, sort_keys=True).encode()
        return body, sign(webhook_secret(self.platform), body, int(self.platform.now().timestamp()))

    # --- internals ---
    def _book(
        self,
        session: Session,
        token: str,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str],
        status: str,
    ) -> SandboxCharge:
        now = self.platform.now()
        charge = SandboxCharge(
            reference=f"sbx_ch_{secrets.token_hex(10)}",
            idempotency_key=idempotency_key,
            token=token,
            amount=amount,
            currency=currency,
            description=description[:200],
            status=status,
            metadata_=metadata,
            created_at=now,
            updated_at=now,
            note="",
        )
        session.add(charge)
        session.flush()
        return charge

    def _result(self, charge: SandboxCharge) -> ChargeResult:
        confirmation = None
        if charge.status == REQUIRES_CONFIRMATION:
            confirmation = f"{self.platform.settings.base_url}/sandbox-payments/{charge.reference}"
        failure = "card-declined" if charge.status == FAILED else None
        return ChargeResult(charge.reference, charge.status, failure, confirmation)

    def _emit(self, session: Session, charge: SandboxCharge) -> None:
        event_type = {
            SUCCEEDED: "payment.succeeded",
            FAILED: "payment.failed",
            REFUNDED: "payment.refunded",
        }[charge.status]
        event = {
            "id": f"evt_{secrets.token_hex(10)}",
            "type": event_type,
            "created": self.platform.now().isoformat(),
            "data": {
                "reference": charge.reference,
                "amount": f"{charge.amount:.2f}",
                "currency": charge.currency,
                "failure_code": "card-declined" if charge.status == FAILED else None,
                "metadata": charge.metadata_,
            },
        }
        # Delivered to our webhook handler by the outbox, signed as a real provider would.
        enqueue(session, "payments.sandbox_webhook", {"event": event}, self.platform.now())


SANDBOX = "sandbox"


def sandbox_enabled(platform: Platform) -> bool:
    return (platform.settings.payment_provider or "").strip() == SANDBOX


def get_provider(platform: Platform) -> PaymentProvider:
    """The configured provider (see the module's docstring); PaymentProviderUnavailable when none
    is."""
    configured = (platform.settings.payment_provider or "").strip()
    if not configured:
        raise PaymentProviderUnavailable()
    if configured == SANDBOX:
        return SandboxProvider(platform)
    module_name, _, factory_name = configured.partition(":")
    factory = getattr(importlib.import_module(module_name), factory_name or "provider")
    provider: PaymentProvider = factory(platform)
    return provider


def get_sandbox(platform: Platform) -> SandboxProvider:
    """The sandbox provider, only when it is the configured one (else NotFound: its pages and
    routes do not exist)."""
    if not sandbox_enabled(platform):
        raise NotFound()
    return SandboxProvider(platform)
