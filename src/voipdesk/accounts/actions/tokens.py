"""API tokens: creating one (the secret shown once), listing, revoking, authenticating a bearer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import make_transient_to_detached

from voipdesk.accounts import rules
from voipdesk.accounts.actions.common import (
    EXPIRY_IN_PAST,
    NAME_REQUIRED,
    TOO_LONG_FIELD,
    _account,
    _event,
)
from voipdesk.accounts.models import (
    Account,
    ApiToken,
)
from voipdesk.core.async_reads import in_thread
from voipdesk.core.errors import InvalidInput, NotFound
from voipdesk.core.platform import Platform
from voipdesk.core.prepared_read import PreparedRead


# --- API tokens -------------------------------------------------------------------------------
def create_api_token(
    platform: Platform,
    account_id: str,
    name: str,
    expires_at: datetime | None = None,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[ApiToken, str]:
    """A bearer token; the secret is returned once and only its sha256 is kept."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = NAME_REQUIRED
    elif len(name) > 100:
        errors["name"] = TOO_LONG_FIELD
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= platform.now()):
        errors["expires_at"] = EXPIRY_IN_PAST
    if errors:
        raise InvalidInput(fields=errors)
    secret = rules.new_api_token_secret()
    with platform.transaction() as session:
        account = _account(session, account_id)
        token = ApiToken(
            account_id=account.id,
            name=name,
            token_hash=rules.sha256_hex(secret),
            created_at=platform.now(),
            expires_at=expires_at,
        )
        session.add(token)
        session.flush()
        _event(
            session,
            platform,
            account.id,
            "api_token_created",
            ip=ip,
            user_agent=user_agent,
            token_id=token.id,
            name=name,
        )
    return token, secret


def list_api_tokens(platform: Platform, account_id: str) -> list[ApiToken]:
    """The tokens not revoked, newest first (expired ones too, marked by their expiry)."""
    with platform.session() as session:
        return list(
            session.scalars(
                select(ApiToken)
                .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
                .order_by(ApiToken.created_at.desc(), ApiToken.id)
            )
        )


def revoke_api_token(
    platform: Platform,
    account_id: str,
    token_id: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    with platform.transaction() as session:
        token = session.scalar(
            select(ApiToken).where(
                ApiToken.id == token_id,
                ApiToken.account_id == account_id,
                ApiToken.revoked_at.is_(None),
            )
        )
        if token is None:
            raise NotFound()
        token.revoked_at = platform.now()
        _event(
            session,
            platform,
            account_id,
            "api_token_revoked",
            ip=ip,
            user_agent=user_agent,
            token_id=token.id,
            name=token.name,
        )


# Writing last_used_at at most once a minute keeps busy API clients from writing on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


# Built once: every API call runs it. One statement, the token and its account in one row, read
# without an ORM session or a transaction, on the driver's own cursor (see core.prepared_read).
_ACCOUNT_COLUMNS = tuple(Account.__table__.columns)
_TOKEN_LOOKUP = PreparedRead(
    select(
        ApiToken.id,
        ApiToken.revoked_at,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        *_ACCOUNT_COLUMNS,
    )
    .join(Account, Account.id == ApiToken.account_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
_ACCOUNT_ATTRIBUTES = tuple(
    Account.__mapper__.get_property_by_column(column).key for column in _ACCOUNT_COLUMNS
)


def authenticate_token(platform: Platform, secret: str) -> Account | None:
    """The account of a valid bearer token; None when unknown, expired or revoked."""
    if not secret:
        return None
    now = platform.now()
    row = _TOKEN_LOOKUP.first(platform.engine, {"token_hash": rules.sha256_hex(secret)})
    account, stale_token = _valid_account(row, now)
    if stale_token is not None:
        _mark_used(platform, stale_token, now)
    return account


async def authenticate_token_async(platform: Platform, secret: str) -> Account | None:
    """`authenticate_token` awaited on the event loop (core.async_reads): the lookup of every
    API call needs no hop to the thread pool; the rare last-used write still takes one."""
    if not secret:
        return None
    now = platform.now()
    row = await _TOKEN_LOOKUP.first_async(
        platform.engine, platform.read_pool, {"token_hash": rules.sha256_hex(secret)}
    )
    account, stale_token = _valid_account(row, now)
    if stale_token is not None:
        await in_thread(_mark_used, platform, stale_token, now)
    return account


def _valid_account(row: tuple[Any, ...] | None, now: datetime) -> tuple[Account | None, str | None]:
    """The account of a looked-up token row when the token is valid, and the token's id when its
    last use is older than LAST_USED_RESOLUTION (to write down)."""
    if row is None:
        return None, None
    token_id, revoked_at, expires_at, last_used_at = row[:4]
    account = Account(**dict(zip(_ACCOUNT_ATTRIBUTES, row[4:], strict=True)))
    make_transient_to_detached(account)  # as if loaded by a session, then closed
    if revoked_at is not None or account.closed_at is not None:
        return None, None
    if expires_at is not None and expires_at <= now:
        return None, None
    stale = last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION
    return account, token_id if stale else None


def _mark_used(platform: Platform, token_id: str, now: datetime) -> None:
    # Its own short write transaction (at most once per LAST_USED_RESOLUTION and token): the
    # lookup is a read, which on SQLite does not hold the write lock.
    with platform.transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
