"""Credit notes: their own gap-free numbers, never more than the invoice, and a whole invoice
credited (at once or in parts) gives back exactly its amounts (rules and API)."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing.renewal import run_renewal
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.invoices import rules
from voipdesk.invoices.models import Invoice

API = "/api/v1"
RATES = st.sampled_from([200_000, 100_000, 55_000, 21_000, 81_000, 50_000, 99_750])


@given(
    base=st.integers(min_value=1, max_value=10_000_000),
    ppm=RATES,
    cuts=st.lists(st.floats(min_value=0.01, max_value=0.99), max_size=6),
)
def test_credits_in_parts_add_up_to_the_invoice_exactly(base: int, ppm: int, cuts) -> None:  # type: ignore[no-untyped-def]
    """Whatever the parts, crediting a whole invoice base gives back exactly its tax, and
    each part's tax is within a cent of that part's own tax."""
    marks = sorted({int(base * cut) for cut in cuts} | {0, base})
    parts = [b - a for a, b in itertools.pairwise(marks) if b > a]
    credited, given_back = 0, 0
    for part in parts:
        assert rules.creditable(base, credited, part)
        tax = rules.credit_tax_cents(credited, part, ppm)
        assert abs(tax - rules.tax_cents(part, ppm)) <= 1
        credited += part
        given_back += tax
    assert credited == base
    assert given_back == rules.tax_cents(base, ppm)
    assert not rules.creditable(base, credited, 1)  # nothing more to credit


@given(invoiced=st.integers(min_value=0, max_value=10**7), credited=st.integers(0, 10**7))
def test_never_more_than_invoiced(invoiced: int, credited: int) -> None:
    for asked in (1, invoiced - credited, invoiced - credited + 1):
        if rules.creditable(invoiced, credited, asked):
            assert asked > 0 and credited + asked <= invoiced


def test_numbers_are_their_own_sequence() -> None:
    assert rules.credit_note_number(2026, 1) == "AV-2026-000001"
    assert rules.credit_note_number(2026, 1) != rules.invoice_number(2026, 1)


def test_staff_credit_an_unpaid_invoice_in_parts_then_in_full(client):  # type: ignore[no-untyped-def]
    platform = client.app.state.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    account = make_account(platform, language="fr")
    deliver(platform, account.id, lines=[("sip-entreprise", 4), ("sip-decouverte", 1)])
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.account_id == account.id)).one()
    staff = make_account(platform, is_staff=True)
    staff_headers = {"Authorization": f"Bearer {api_token_for(client, staff)}"}
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}"}
    url = f"{API}/backoffice/invoices/{invoice.id}/credit-notes"
    assert client.post(url, json={"reason": "x"}, headers=headers).status_code == 403
    first = client.post(
        url,
        json={
            "reason": "Re-rating: line billed at the wrong price",
            "lines": [{"description": "Entreprise line re-rated", "amount_excl_tax": "1.33"}],
        },
        headers=staff_headers,
    )
    assert first.status_code == 201, first.text
    assert first.json()["number"] == "AV-2026-000001"
    assert first.json()["invoice_status"] == "unpaid"
    too_much = client.post(
        url,
        json={"reason": "Refund", "lines": [{"description": "x", "amount_excl_tax": "100.00"}]},
        headers=staff_headers,
    )
    assert too_much.status_code == 409 and too_much.json()["type"] == "credit-exceeds-invoice"
    rest = client.post(url, json={"reason": "Cancelled order"}, headers=staff_headers)
    assert rest.status_code == 201, rest.text
    assert rest.json()["number"] == "AV-2026-000002"  # gap-free, the refusal took no number
    assert rest.json()["invoice_status"] == "credited"
    total = sum(
        int(note[key]["amount"].replace(".", ""))
        for note in (first.json(), rest.json())
        for key in ("incl_tax",)
    )
    assert total == invoice.total_incl_tax_cents  # the invoice, exactly
    again = client.post(url, json={"reason": "Twice"}, headers=staff_headers)
    assert again.status_code == 409
    # Credited in full, nothing is due: no dunning, no closure block; the customer has the PDFs.
    from voipdesk.invoices.services import unpaid_invoices

    with platform.session() as session:
        assert unpaid_invoices(session, account.id) == []
    notes = client.get(f"{API}/me/credit-notes", headers=headers).json()["items"]
    assert [n["number"] for n in notes] == ["AV-2026-000002", "AV-2026-000001"]
    pdf = client.get(notes[0]["pdf_url"], headers=headers)
    assert pdf.status_code == 200
    assert 'filename="avoir-AV-2026-000002.pdf"' in pdf.headers["content-disposition"]
    from tests.invoices.test_invoice_documents import _text, assert_no_overlap

    assert_no_overlap(pdf.content)
    text = " ".join(_text(pdf.content).split())
    assert "Avoir AV-2026-000002" in text and f"Avoir sur la facture {invoice.number}" in text
