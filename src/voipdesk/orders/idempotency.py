"""`Idempotency-Key` on POSTs that create orders or payments: the first answer is stored per
account, scope and key, and replayed for the same key; nothing is created twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.orders.errors import IdempotencyKeyReused
from voipdesk.orders.models import IdempotencyKey

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

Answer = tuple[int, dict[str, Any]]
MAX_KEY_LENGTH = 200


def request_fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def run_idempotent(
    platform: Platform,
    account_id: str,
    scope: str,
    key: str | None,
    body: Any,
    action: Callable[[Session], Answer],
) -> Answer:
    """Runs `action` in one transaction, or replays the stored answer of the same key."""
    if not key:
        with platform.transaction() as session:
            return action(session)
    key = key[:MAX_KEY_LENGTH]
    fingerprint = request_fingerprint(body)
    for attempt in range(3):
        try:
            with platform.transaction() as session:
                existing = session.scalar(
                    select(IdempotencyKey).where(
                        IdempotencyKey.account_id == account_id,
                        IdempotencyKey.scope == scope,
                        IdempotencyKey.key == key,
                    )
                )
                if existing is not None:
                    if existing.request_hash != fingerprint:
                        raise IdempotencyKeyReused(
                            fields={"Idempotency-Key": "Use a new key for a new request."}
                        )
                    return existing.status_code, existing.response
                # Claim the key first: a concurrent request with the same key waits on this row,
                # then finds it taken and replays the answer instead of acting a second time.
                claim = IdempotencyKey(
                    account_id=account_id,
                    scope=scope,
                    key=key,
                    request_hash=fingerprint,
                    status_code=0,
                    response={},
                    created_at=platform.now(),
                )
                session.add(claim)
                session.flush()
                status, response = action(session)
                claim.status_code = status
                claim.response = response
                return status, response
        except IntegrityError:
            if attempt == 2:
                raise
    raise RuntimeError("unreachable")


def purge_expired_keys(platform: Platform) -> int:
    """Forgets keys older than their lifetime: a client retries within minutes, not months."""
    from sqlalchemy import delete

    from voipdesk.orders.rules import IDEMPOTENCY_KEY_LIFETIME

    with platform.transaction() as session:
        result = session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.created_at < platform.now() - IDEMPOTENCY_KEY_LIFETIME
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
