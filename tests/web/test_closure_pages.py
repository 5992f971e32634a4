"""The closure page: the reasons that block it, each with its link; else the e-mailed link, whose
page names the consequence before closing the account for good."""

from __future__ import annotations

import html

from sqlalchemy import select

from tests.accounts.factories import PASSWORD, make_account
from tests.web.conftest import csrf_from, login
from voipdesk.accounts import closure
from voipdesk.accounts.closure import Blocker
from voipdesk.accounts.models import Account, ServiceEmail


def test_closure_page_lists_reasons_then_closes_through_the_emailed_link(client, platform):  # type: ignore[no-untyped-def]
    account = make_account(platform, language="en")
    assert login(client, account.handle, PASSWORD).status_code == 303
    blocked = {account.id}

    def orders(session, who):  # type: ignore[no-untyped-def]
        if who.id not in blocked:
            return []
        return [Blocker("order-in-progress", "Order %(n)s is open.", {"n": "42"}, "/orders/o1")]

    saved = dict(closure._CHECKS)
    closure.closure_blocker("tests.orders")(orders)
    try:
        page = client.get("/closure")
        assert page.status_code == 200
        body = html.unescape(page.text)
        assert "Order 42 is open." in body and 'href="/orders/o1"' in body
        assert 'name="password"' not in body
        blocked.clear()
        page = client.get("/closure")
        assert "This cannot be undone." in html.unescape(page.text)
        wrong = client.post(
            "/closure", data={"password": "nope", "csrf_token": csrf_from(page.text)}
        )
        assert wrong.status_code == 422
        asked = client.post(
            "/closure", data={"password": PASSWORD, "csrf_token": csrf_from(page.text)}
        )
        assert asked.status_code == 200
        assert f"A confirmation link was e-mailed to {account.email}" in html.unescape(asked.text)
        with platform.session() as session:
            mail = session.scalars(
                select(ServiceEmail).where(ServiceEmail.kind == "account-closure-confirmation")
            ).one()
            assert session.get(Account, account.id).closed_at is None  # type: ignore[union-attr]
        path = "/closure/" + mail.body_text.split("/closure/")[1].split()[0]
        confirm = client.get(path)
        assert f"The account {account.handle} will be closed at once" in html.unescape(confirm.text)
        done = client.post(path, data={"csrf_token": csrf_from(confirm.text)})
        assert done.status_code == 200
        assert f"The account {account.handle} is closed" in html.unescape(done.text)
        with platform.session() as session:
            assert session.get(Account, account.id).closed_at is not None  # type: ignore[union-attr]
        assert client.get("/closure", follow_redirects=False).status_code in (302, 303)
    finally:
        closure._CHECKS.clear()
        closure._CHECKS.update(saved)
