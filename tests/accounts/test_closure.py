"""Closing an account: refused with every reason the areas give, else final for logins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

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
        return [Blocker("orders-in-progress", "An order is in progress.", link="/orders/x")]

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
        {"code": "unpaid-invoices", "message": "2 invoices are not paid.", "link": None},
        {"code": "orders-in-progress", "message": "An order is in progress.", "link": "/orders/x"},
    ]
    with platform.session() as session:
        row = session.get(Account, account.id)
        assert row is not None and row.closed_at is None
    assert client.get(f"{API}/me", headers=headers).status_code == 200


def closure_token(platform, account_id: str) -> str:
    with platform.session() as session:
        mail = session.scalars(
            select(ServiceEmail).where(
                ServiceEmail.account_id == account_id,
                ServiceEmail.kind == "account-closure-confirmation",
            )
        ).one()
    return mail.body_text.split("/closure/")[1].split()[0]


def close_by_email(client, platform, account, headers) -> str:  # type: ignore[no-untyped-def]
    asked = client.post(f"{API}/me/closure", headers=headers, json={"password": PASSWORD})
    assert asked.status_code == 202, asked.text
    assert asked.json()["sent_to"] == account.email
    link = closure_token(platform, account.id)
    done = client.post(f"{API}/me/closure/{link}")
    assert done.status_code == 200, done.text
    return link


def test_asking_sends_a_link_and_only_following_it_closes(client, platform, clock, test_blockers):
    account = make_account(platform, language="en")
    token = api_token_for(client, account)
    headers = {"Authorization": f"Bearer {token}"}
    asked = client.post(f"{API}/me/closure", headers=headers, json={"password": PASSWORD})
    assert asked.status_code == 202
    # Asking changes nothing yet: the account works until the link is followed.
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    link = closure_token(platform, account.id)
    assert client.post(f"{API}/me/closure/{link}x").status_code == 404
    # Something blocking since the request refuses the confirmation too, naming it.
    BLOCKED.add(account.id)
    refused = client.post(f"{API}/me/closure/{link}")
    assert refused.status_code == 409 and len(refused.json()["reasons"]) == 2
    BLOCKED.clear()
    clock.advance(timedelta(hours=25))
    expired = client.post(f"{API}/me/closure/{link}")
    assert expired.status_code == 404 and expired.json()["type"] == "closure-link-invalid"
    assert client.get(f"{API}/me", headers=headers).status_code == 200


def test_a_closed_account_can_no_longer_log_in(client, platform, test_blockers):
    account = make_account(platform)
    token = api_token_for(client, account)
    headers = {"Authorization": f"Bearer {token}"}
    wrong = client.post(f"{API}/me/closure", headers=headers, json={"password": "Wrong-one-123"})
    assert wrong.status_code == 422
    link = close_by_email(client, platform, account, headers)
    # The link works once.
    again = client.post(f"{API}/me/closure/{link}")
    assert again.status_code == 404
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
    close_by_email(client, platform, account, {"Authorization": f"Bearer {token}"})
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
