"""Paying an unpaid renewal invoice (card, transfer, direct debit), dunning across a moved clock
until suspension and reactivation after payment, retries and direct-debit returns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tests.accounts.factories import api_token_for, make_account
from tests.billing.helpers import add_sepa_method
from tests.subscriptions.factories import deliver
from voipdesk.accounts.models import Account, ServiceEmail
from voipdesk.billing.dunning import retry_failed_collections, run_dunning
from voipdesk.billing.renewal import run_renewal
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.outbox import drain
from voipdesk.invoices.models import Invoice
from voipdesk.subscriptions.models import Service
from voipdesk.subscriptions.services import suspension_reason

API = "/api/v1"
GOOD_CARD = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _customer(client, clock, *, sepa: bool = False, kind: str = "individual"):  # type: ignore[no-untyped-def]
    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    account = make_account(platform, language="en", kind=kind)
    if sepa:
        add_sepa_method(platform, account.id)
    deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    _move_to(clock, date(2026, 4, 1))
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.account_id == account.id)).one()
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}"}
    return platform, account, invoice, headers


def _kinds(platform, account: Account) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        return list(
            session.scalars(
                select(ServiceEmail.kind)
                .where(ServiceEmail.account_id == account.id, ServiceEmail.kind.like("invoice-%"))
                .order_by(ServiceEmail.created_at, ServiceEmail.id)
            )
        )


def _states(platform, account: Account) -> set[str]:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        return set(session.scalars(select(Service.state).where(Service.account_id == account.id)))


def _move_to(clock, when: date) -> None:  # type: ignore[no-untyped-def]
    target = datetime(when.year, when.month, when.day, 10, 0, tzinfo=UTC)
    clock.advance(target - clock.now())


def test_an_unpaid_renewal_invoice_is_paid_by_card(client, clock):  # type: ignore[no-untyped-def]
    platform, account, invoice, headers = _customer(client, clock)
    assert invoice.status == "unpaid" and invoice.total_incl_tax_cents == 600
    url = f"{API}/me/invoices/{invoice.id}/payments"
    key = {**headers, "Idempotency-Key": "pay-once"}
    paid = client.post(url, json={"method": "card", "card": GOOD_CARD}, headers=key)
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert body["state"] == "succeeded" and body["invoice_status"] == "paid"
    assert body["amount"] == {"amount": "6.00", "currency": "EUR"}
    # The same key replays the answer and charges nothing more.
    again = client.post(url, json={"method": "card", "card": GOOD_CARD}, headers=key)
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    twice = client.post(url, json={"method": "card", "card": GOOD_CARD}, headers=headers)
    assert twice.status_code == 409 and twice.json()["type"] == "invoice-already-paid"
    detail = client.get(f"{API}/me/invoices/{invoice.id}", headers=headers).json()
    assert detail["status"] == "paid"
    assert _kinds(platform, account) == ["invoice-paid"]
    listed = client.get(url, headers=headers).json()["items"]
    assert [p["state"] for p in listed] == ["succeeded"]


def test_a_declined_card_changes_nothing_and_says_so(client, clock):  # type: ignore[no-untyped-def]
    _platform, _account, invoice, headers = _customer(client, clock)
    declined = {**GOOD_CARD, "number": "4000 0000 0000 0002"}
    answer = client.post(
        f"{API}/me/invoices/{invoice.id}/payments",
        json={"method": "card", "card": declined},
        headers=headers,
    )
    assert answer.status_code == 201
    assert answer.json()["state"] == "failed" and answer.json()["invoice_status"] == "unpaid"


def test_an_unpaid_renewal_invoice_is_paid_by_transfer_recorded_by_staff(client, clock):  # type: ignore[no-untyped-def]
    platform, _account, invoice, headers = _customer(client, clock, kind="company")
    answer = client.post(
        f"{API}/me/invoices/{invoice.id}/payments",
        json={"method": "bank_transfer"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["state"] == "awaiting_transfer" and body["invoice_status"] == "unpaid"
    assert body["transfer"]["reference"] == f"INV-{invoice.number}"
    assert body["transfer"]["iban"] == platform.settings.operator_iban
    customer_try = client.post(
        f"{API}/backoffice/invoices/{invoice.id}/bank-transfer", headers=headers
    )
    assert customer_try.status_code == 403
    staff = make_account(platform, is_staff=True)
    staff_headers = {"Authorization": f"Bearer {api_token_for(client, staff)}"}
    recorded = client.post(
        f"{API}/backoffice/invoices/{invoice.id}/bank-transfer", headers=staff_headers
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["state"] == "succeeded" and recorded.json()["invoice_status"] == "paid"
    again = client.post(
        f"{API}/backoffice/invoices/{invoice.id}/bank-transfer", headers=staff_headers
    )
    assert again.status_code == 409


def test_dunning_across_the_month_suspends_then_payment_reactivates(client, clock):  # type: ignore[no-untyped-def]
    platform, account, invoice, headers = _customer(client, clock)
    due = invoice.issued_on
    expected = {
        0: ["invoice-reminder"],
        7: ["invoice-reminder"],
        14: ["invoice-reminder"],
        21: ["invoice-suspension-notice"],
        28: ["invoice-suspension"],
    }
    sent: list[str] = []
    for day in range(0, 31):
        _move_to(clock, due + timedelta(days=day))
        run_dunning(platform)
        run_dunning(platform)  # twice the same day: nothing twice
        now = _kinds(platform, account)
        new, sent = now[len(sent) :], now
        assert new == expected.get(day, []), day
        assert _states(platform, account) == ({"suspended"} if day >= 28 else {"active"})
    with platform.session() as session:
        service_ids = session.scalars(
            select(Service.id).where(Service.account_id == account.id)
        ).all()
        assert {suspension_reason(session, sid) for sid in service_ids} == {invoice.number}
        notice = session.scalars(
            select(ServiceEmail).where(ServiceEmail.kind == "invoice-suspension-notice")
        ).one()
    assert (due + timedelta(days=28)).strftime("%-d") in notice.subject
    paid = client.post(
        f"{API}/me/invoices/{invoice.id}/payments",
        json={"method": "card", "card": GOOD_CARD},
        headers=headers,
    )
    assert paid.json()["invoice_status"] == "paid"
    assert _states(platform, account) == {"active"}
    with platform.session() as session:
        assert {suspension_reason(session, sid) for sid in service_ids} == {None}
        receipt = session.scalars(
            select(ServiceEmail).where(ServiceEmail.kind == "invoice-paid")
        ).one()
    assert "work again" in receipt.body_text
    _move_to(clock, due + timedelta(days=40))
    assert run_dunning(platform) == 0


def test_a_failed_collection_is_retried_on_schedule(client, clock):  # type: ignore[no-untyped-def]
    from tests.billing.test_manual_and_cards import _card
    from voipdesk.billing.actions import collect_pending_cards

    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    account = make_account(platform, language="en")
    _card(platform, account.id, "declined")
    deliver(platform, account.id, lines=[("sip-entreprise", 1)])
    run_renewal(platform, date(2026, 4, 1))
    _move_to(clock, date(2026, 4, 1))
    assert collect_pending_cards(platform) == 1
    assert _kinds(platform, account) == ["invoice-collection-failed"]
    assert retry_failed_collections(platform) == 0  # not before 3 days
    _move_to(clock, date(2026, 4, 4))
    assert retry_failed_collections(platform) == 1
    assert retry_failed_collections(platform) == 0
    assert _kinds(platform, account) == ["invoice-collection-failed"] * 2
    _move_to(clock, date(2026, 4, 10))
    assert retry_failed_collections(platform) == 0  # 7 days after the second failure: 11th
    _move_to(clock, date(2026, 4, 11))
    assert retry_failed_collections(platform) == 1
    _move_to(clock, date(2026, 4, 30))
    assert retry_failed_collections(platform) == 0  # the schedule is over; dunning goes on


def test_a_returned_direct_debit_makes_the_invoice_unpaid_again(client, clock):  # type: ignore[no-untyped-def]
    platform, account, invoice, headers = _customer(client, clock, sepa=True)
    with platform.session() as session:
        assert session.get(Invoice, invoice.id).status == "paid"  # type: ignore[union-attr]
    staff = make_account(platform, is_staff=True)
    staff_headers = {"Authorization": f"Bearer {api_token_for(client, staff)}"}
    returned = client.post(
        f"{API}/backoffice/invoices/{invoice.id}/direct-debit-return",
        json={"reason_code": "AM04"},
        headers=staff_headers,
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "unpaid"
    assert _kinds(platform, account) == ["invoice-debit-returned"]
    again = client.post(
        f"{API}/backoffice/invoices/{invoice.id}/direct-debit-return",
        json={"reason_code": "AM04"},
        headers=staff_headers,
    )
    assert again.status_code == 409
    # A one-off direct debit on the same mandate: sent now, paid when the bank collects it.
    debit = client.post(
        f"{API}/me/invoices/{invoice.id}/payments", json={"method": "sepa_debit"}, headers=headers
    )
    assert debit.status_code == 201, debit.text
    assert debit.json()["state"] == "pending" and debit.json()["invoice_status"] == "unpaid"
    blocked = client.post(
        f"{API}/me/invoices/{invoice.id}/payments",
        json={"method": "card", "card": GOOD_CARD},
        headers=headers,
    )
    assert blocked.status_code == 409 and blocked.json()["type"] == "invoice-payment-in-progress"
    drain(platform)  # the provider's webhook: collected
    with platform.session() as session:
        assert session.get(Invoice, invoice.id).status == "paid"  # type: ignore[union-attr]


def test_automatic_renewal_needs_a_default_method_else_falls_back_to_manual(client, clock):  # type: ignore[no-untyped-def]
    from voipdesk.billing.dunning import fall_back_to_manual_renewal

    platform = client.app.state.platform
    account = make_account(platform, language="en")
    deliver(platform, account.id, lines=[("sip-decouverte", 1)])
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}"}
    [service] = client.get(f"{API}/me/services", headers=headers).json()["items"]
    manual = client.patch(
        f"{API}/me/services/{service['id']}", json={"renewal_mode": "manual"}, headers=headers
    )
    assert manual.status_code == 200
    refused = client.patch(
        f"{API}/me/services/{service['id']}", json={"renewal_mode": "automatic"}, headers=headers
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == "default-payment-method-required"
    with platform.transaction() as session:
        row = session.get(Service, service["id"])
        assert row is not None
        row.renewal_mode = "automatic"  # as it was before the rule
    assert fall_back_to_manual_renewal(platform) == 0  # expires on the 31st: not yet
    _move_to(clock, date(2026, 3, 25))
    assert fall_back_to_manual_renewal(platform) == 1
    assert fall_back_to_manual_renewal(platform) == 0
    with platform.session() as session:
        assert session.get(Service, service["id"]).renewal_mode == "manual"  # type: ignore[union-attr]
        kinds = session.scalars(
            select(ServiceEmail.kind).where(ServiceEmail.account_id == account.id)
        ).all()
    assert "renewal-switched-to-manual" in kinds


def test_the_invoice_page_pays_by_card_and_says_what_happened(client, clock):  # type: ignore[no-untyped-def]
    import html

    from tests.accounts.factories import PASSWORD
    from tests.web.conftest import csrf_from, login

    _platform, account, invoice, _headers = _customer(client, clock)
    assert login(client, account.handle, PASSWORD).status_code == 303
    listing = html.unescape(client.get("/invoices").text)
    assert f'href="/invoices/{invoice.id}"' in listing
    page = client.get(f"/invoices/{invoice.id}")
    assert page.status_code == 200 and 'id="pay-form"' in page.text
    paid = client.post(
        f"/invoices/{invoice.id}/pay",
        data={
            "choice": "new-card",
            "card_number": "4242424242424242",
            "card_exp": "12/30",
            "card_cvc": "123",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert paid.status_code == 200  # followed the redirect
    text = html.unescape(paid.text)
    assert f"Invoice {invoice.number} is paid: €6.00 incl. tax" in text
    assert 'id="pay-form"' not in text
