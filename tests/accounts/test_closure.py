"""Closing an account: refused with every reason the areas give, else final for logins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.accounts.factories import PASSWORD, api_token_for, make_account
from voipdesk.accounts import closure
from voipdesk.accounts.closure import Blocker
from voipdesk.accounts.models import Account, ServiceEmail

API = "/api/v1"
BLOCKED: set[str] = set()


@pytest.fixture
def test_blockers() -> Iterator[None]:
    """Two stand-in areas: one with unpaid invoices, one with orders in progress."""

    def invoices(session, account):  # type: ignore[no-untyped-def]
        if account.id not in BLOCKED:
            return []
        return [Blocker("unpaid-invoices", "%(count)s invoices are not paid.", {"count": 2})]

    def orders(session, account):  # type: ignore[no-untyped-def]
        if account.id not in BLOCKED:
            return []
        return [Blocker("orders-in-progress", "An order is in progress.")]

    saved = dict(closure._CHECKS)
    closure.closure_blocker("tests.invoices")(invoices)
    closure.closure_blocker("tests.orders")(orders)
    yield
    closure._CHECKS.clear()
    closure._CHECKS.update(saved)
    BLOCKED.clear()


def test_closure_is_refused_listing_every_reason_and_changes_nothing(
    client, platform, test_blockers
):
    account = make_account(platform, language="en")
    token = api_token_for(client, account)
    BLOCKED.add(account.id)
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(f"{API}/me/closure", headers=headers, json={"password": PASSWORD})
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "closure-refused"
    assert problem["reasons"] == [
        {"code": "unpaid-invoices", "message": "2 invoices are not paid."},
        {"code": "orders-in-progress", "message": "An order is in progress."},
    ]
    with platform.session() as session:
        row = session.get(Account, account.id)
        assert row is not None and row.closed_at is None
    assert client.get(f"{API}/me", headers=headers).status_code == 200


def test_a_closed_account_can_no_longer_log_in(client, platform, test_blockers):
    account = make_account(platform)
    token = api_token_for(client, account)
    headers = {"Authorization": f"Bearer {token}"}
    wrong = client.post(f"{API}/me/closure", headers=headers, json={"password": "Wrong-one-123"})
    assert wrong.status_code == 422
    done = client.post(f"{API}/me/closure", headers=headers, json={"password": PASSWORD})
    assert done.status_code == 200
    assert client.get(f"{API}/me", headers=headers).status_code == 401
    login = client.post(f"{API}/auth/tokens", json={"login": account.handle, "password": PASSWORD})
    assert login.status_code == 401
    with platform.session() as session:
        kinds = session.scalars(
            select(ServiceEmail.kind).where(ServiceEmail.account_id == account.id)
        ).all()
    assert "account-closed" in kinds


def test_closing_erases_personal_data_and_frees_the_email(client, platform, test_blockers):
    account = make_account(platform, mobile="+33612345678")
    token = api_token_for(client, account)
    done = client.post(
        f"{API}/me/closure",
        headers={"Authorization": f"Bearer {token}"},
        json={"password": PASSWORD},
    )
    assert done.status_code == 200
    with platform.session() as session:
        closed = session.get(Account, account.id)
        assert closed is not None
        assert closed.closed_at is not None
        assert closed.handle == account.handle  # the pseudonym invoices refer to
        assert account.email not in closed.email
        assert (closed.first_name, closed.last_name, closed.city) == ("-", "-", "")
        assert closed.mobile is None and closed.backup_email is None
        kinds = session.scalars(
            select(ServiceEmail.kind).where(ServiceEmail.account_id == account.id)
        ).all()
    assert kinds == ["account-closed"]
    again = make_account(platform, email=account.email)
    assert again.id != account.id
