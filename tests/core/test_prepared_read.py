"""Prepared reads (compiled once, run on the driver's cursor, or awaited on the event loop's own
connections) give what SQLAlchemy's own execution gives, and answer like it when the database is
gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import OperationalError

from tests.accounts.factories import make_account
from voipdesk.accounts.models import Account, ApiToken
from voipdesk.core.async_reads import start_pool
from voipdesk.core.db import DecimalAmount, new_id
from voipdesk.core.prepared_read import PreparedRead

STATEMENT = (
    select(Account.id, Account.email, Account.created_at, Account.kind)
    .where(Account.created_at >= bindparam("since", type_=Account.created_at.type))
    .where(Account.kind.in_(["individual", "company"]))
    .where(Account.email.startswith(bindparam("prefix")))
    .order_by(Account.email)
)


def test_rows_match_sqlalchemy_with_aware_instants_in_lists_and_typed_binds(platform) -> None:  # type: ignore[no-untyped-def]
    for name in ("ana", "bob", "cyd"):
        make_account(platform, email=f"{name}@prepared.example")
    since = platform.now() - timedelta(days=1)
    params = {"since": since, "prefix": "b"}
    with platform.session() as session:
        expected = [tuple(row) for row in session.execute(STATEMENT, params)]
    prepared = PreparedRead(STATEMENT)
    assert prepared.rows(platform.engine, params) == expected
    assert len(expected) == 1 and expected[0][1] == "bob@prepared.example"
    assert expected[0][2].tzinfo is not None  # UTC given back, SQLite included
    assert prepared.first(platform.engine, {"since": since, "prefix": "zzz"}) is None
    later = {"since": platform.now() + timedelta(days=1), "prefix": ""}
    assert prepared.rows(platform.engine, later) == []  # the instant is bound as an instant


def test_awaited_rows_are_the_same_with_and_without_the_event_loop_pool(platform) -> None:  # type: ignore[no-untyped-def]
    make_account(platform, email="dan@prepared.example")
    params = {"since": platform.now() - timedelta(days=1), "prefix": "dan"}
    prepared = PreparedRead(STATEMENT)
    expected = prepared.rows(platform.engine, params)

    async def both() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        pool = start_pool(platform.engine)
        try:
            on_pool = await prepared.rows_async(platform.engine, pool, params)
            in_thread = await prepared.rows_async(platform.engine, None, params)
        finally:
            if pool is not None:
                await pool.close()
        return on_pool, in_thread

    on_pool, in_thread = asyncio.run(both())
    assert on_pool == in_thread == expected and len(expected) == 1
    assert (start_pool(platform.engine) is None) == (platform.engine.dialect.name == "sqlite")


def test_exact_decimals_come_back_as_exact_decimals(platform) -> None:  # type: ignore[no-untyped-def]
    prepared = PreparedRead(select(bindparam("value", type_=DecimalAmount()).label("amount")))
    (value,) = prepared.first(platform.engine, {"value": Decimal("12.3456")}) or (None,)
    assert isinstance(value, Decimal) and value == Decimal("12.3456")


def test_a_valid_token_is_found_and_a_revoked_one_is_refused_at_once_through_the_pool(
    client, platform
) -> None:  # type: ignore[no-untyped-def]
    from tests.accounts.factories import api_token_for

    account = make_account(platform, language="en")
    token = api_token_for(client, account)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    if platform.engine.dialect.name == "postgresql":
        assert platform.read_pool is not None  # the lifespan opened it: the path under test
    with platform.transaction() as session:
        for row in session.scalars(select(ApiToken).where(ApiToken.account_id == account.id)):
            row.revoked_at = platform.now()
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["type"] == "invalid-token"


def test_a_database_that_is_gone_answers_sqlalchemys_error(platform) -> None:  # type: ignore[no-untyped-def]
    if platform.engine.dialect.name != "postgresql":
        assert start_pool(platform.engine) is None  # SQLite reads go to the thread pool
        return
    prepared = PreparedRead(select(Account.id).where(Account.id == bindparam("id")))

    async def cut_then_read() -> tuple[object, object]:
        pool = start_pool(platform.engine)
        assert pool is not None
        try:
            assert await prepared.rows_async(platform.engine, pool, {"id": new_id()}) == []
            others = (
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            with platform.engine.connect() as admin:  # every other connection, cut
                admin.execute(text("SELECT pg_terminate_backend(pid)" + others))
                for _ in range(100):  # the backends end a moment later
                    if not admin.execute(text("SELECT count(*)" + others)).scalar():
                        break
                    await asyncio.sleep(0.05)
            with pytest.raises(OperationalError) as met:
                await prepared.rows_async(platform.engine, pool, {"id": new_id()})
            first = met.value
            again = await prepared.rows_async(platform.engine, pool, {"id": new_id()})
        finally:
            await pool.close()
        return first, again

    first, again = asyncio.run(cut_then_read())
    # the read that met the cut connection fails as SQLAlchemy's error (503 in the API), and the
    # next one reconnects by itself
    assert isinstance(first, OperationalError) and first.connection_invalidated
    assert again == []


def test_a_closed_instant_round_trips(platform) -> None:  # type: ignore[no-untyped-def]
    instant = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    prepared = PreparedRead(select(bindparam("at", type_=Account.created_at.type).label("at")))
    (value,) = prepared.first(platform.engine, {"at": instant}) or (None,)
    assert value == instant
