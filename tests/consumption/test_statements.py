"""The renewal run makes the month before's statement (read back from its PDF), and its
beyond-plan amount is one line of that invoice, once even when the renewal runs again; a
re-rating's difference is charged on the next invoice, explained, once."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from tests.accounts.factories import PASSWORD, api_token_for, make_account
from tests.conftest import require
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from tests.web.conftest import login
from voipdesk.billing.renewal import run_renewal
from voipdesk.consumption import actions
from voipdesk.invoices.models import Invoice, InvoiceLine

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _pdf_text(data: bytes, tmp_path) -> str:
    require(bool(shutil.which("pdftotext")), "pdftotext", "apt-get install poppler-utils")
    path = tmp_path / "statement.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _consumption_lines(platform, group):
    with platform.session() as session:
        return [
            (line.description, line.amount_excl_tax_cents, invoice.renewal_period)
            for line, invoice in session.execute(
                select(InvoiceLine, Invoice)
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(Invoice.billing_group_id == group, InvoiceLine.service_id.is_(None))
                .order_by(Invoice.renewal_period, InvoiceLine.id)
            )
        ]


def test_statement_pdf_csv_and_invoice_line_once(client, clock, tmp_path):
    platform = client.app.state.platform
    account = make_account(platform, language="fr")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    group = result.billing_group_id
    number = result.sip_credentials[0].number_e164
    store(
        platform,
        call(number, group, "+33612345678", T0, 600),  # 10 min mobile: 1.00
        call(number, group, "+33899123456", T0 + timedelta(hours=1), 90),  # special: 0.15+2 min
        call(number, group, "+33123456789", T0 + timedelta(hours=2), 300),  # fixed: included
        # Last day of March, 23:50 Paris, 20 minutes: all of it in March.
        call(number, group, "+14155552671", datetime(2026, 3, 31, 21, 50, tzinfo=UTC), 1200),
        call(number, group, "+33612345678", datetime(2026, 3, 31, 22, 5, tzinfo=UTC), 60),  # April
    )
    clock.move_to(datetime(2026, 4, 1, 6, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    # mobile 1.0000 + special 0.1500 + 1.6000 + North America 1.0000 = 3.75
    lines = _consumption_lines(platform, group)
    assert lines == [("Appels hors forfait, mars 2026", 375, date(2026, 4, 1))]
    again = run_renewal(platform, date(2026, 4, 1))
    assert again.this_run["statements_made"] == 0
    assert _consumption_lines(platform, group) == lines
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}", "Accept-Language": "fr"}
    listed = client.get(f"/api/v1/telephony/{group}/statements", headers=headers).json()["items"]
    assert [(s["month"], s["calls"], s["beyond_plan_excl_tax"]["amount"]) for s in listed] == [
        ("2026-03", 4, "3.75")
    ]
    assert listed[0]["invoiced_on"] == "2026-04-01"
    # The customer space shows the amount with and without the tax it is invoiced with.
    assert login(client, account.email, PASSWORD).status_code in (302, 303)
    page = client.get(f"/telephony/{group}/statements").text.replace("\u202f", " ")
    assert "3,75\xa0€ HT" in page and "4,50\xa0€ TTC" in page, page
    pdf = client.get(f"/api/v1/telephony/{group}/statements/2026-03/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _pdf_text(pdf.content, tmp_path)
    assert "Relevé de consommation" in text and "mars 2026" in text
    assert "Hors forfait (HT) : 3,75" in text
    assert "Appels : 4, durée facturée : 37:00" in text
    rows = {" ".join(line.split()) for line in text.splitlines()}
    assert "Mobile 1 10:00 1,00 €" in rows and "Numéro à tarif spécial 1 2:00 1,75 €" in rows
    assert "Fixe 1 5:00 0,00 €" in rows
    assert any(r.startswith("2026-03-10 12:00") and "01 23 45 67 89" in r for r in rows)
    assert any("0 899 12 34 56" in r and r.endswith("1,75 €") for r in rows)
    # The call across midnight on the last day, wholly in March, 20 minutes.
    assert any(r.startswith("2026-03-31 23:50") and "+1 415-555-2671" in r and "20:00" in r
               for r in rows)  # fmt: skip
    csv_answer = client.get(f"/api/v1/telephony/{group}/statements/2026-03/csv", headers=headers)
    assert csv_answer.status_code == 200 and len(csv_answer.text.strip().splitlines()) == 5
    missing = client.get(f"/api/v1/telephony/{group}/statements/2026-02/pdf", headers=headers)
    assert missing.status_code == 404
    other = make_account(platform)
    assert (
        client.get(
            f"/api/v1/telephony/{group}/statements",
            headers={"Authorization": f"Bearer {api_token_for(client, other)}"},
        ).status_code
        == 404
    )
    # A rate correction for March: re-rated, the difference on May's invoice, once.
    with platform.transaction() as session:
        actions.set_rate(
            session, plan="*", destination="mobile", per_minute=Decimal("0.05"),
            connection_fee=Decimal("0"), first_increment=60,
            next_increment=1, valid_from=date(2026, 3, 1), actor="staff",
        )  # fmt: skip
    with platform.transaction() as session:
        first = actions.rerate_month(session, platform, date(2026, 3, 1), "Mobile rate", "staff")
    with platform.transaction() as session:
        second = actions.rerate_month(session, platform, date(2026, 3, 1), "Mobile rate", "staff")
    with platform.transaction() as session:  # April, the month in progress, has no statement
        april = actions.rerate_month(session, platform, date(2026, 4, 1), "Mobile rate", "staff")
    assert (april.lines, april.groups_changed) == (1, 0)
    assert (first.groups_changed, first.difference_cents) == (1, -50)
    assert (second.groups_changed, second.difference_cents) == (0, 0)
    clock.move_to(datetime(2026, 5, 1, 6, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 5, 1))
    run_renewal(platform, date(2026, 5, 1))
    may = [line for line in _consumption_lines(platform, group) if line[2] == date(2026, 5, 1)]
    # April's own call (1 min mobile at the new rate, 0.05) and March's credit.
    assert sorted(may) == sorted(
        [
            ("Appels hors forfait, avril 2026", 5, date(2026, 5, 1)),
            ("Appels recalculés, mars 2026 : Mobile rate", -50, date(2026, 5, 1)),
        ]
    )


def test_beyond_plan_invoiced_once_for_a_group_with_no_service_due(client, clock):
    platform = client.app.state.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-decouverte", 2)])
    group = result.billing_group_id
    number = result.sip_credentials[0].number_e164
    store(platform, call(number, group, "+33612345678", T0, 600))  # 10 min mobile: 1.00
    # Its services are paid beyond April (none is due at the April renewal).
    with platform.transaction() as session:
        from voipdesk.subscriptions.models import Service

        for service in session.scalars(select(Service).where(Service.billing_group_id == group)):
            service.expiry_on = date(2026, 4, 30)
    clock.move_to(datetime(2026, 4, 1, 6, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    lines = _consumption_lines(platform, group)
    assert lines == [("Calls beyond the plan, March 2026", 100, date(2026, 4, 1))]
    with platform.session() as session:
        invoices = list(session.scalars(select(Invoice).where(Invoice.billing_group_id == group)))
        renewal = [i for i in invoices if i.renewal_period == date(2026, 4, 1)]
        assert len(renewal) == 1 and renewal[0].total_excl_tax_cents == 100
        only_lines = session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == renewal[0].id)
        ).all()
        assert len(only_lines) == 1  # no service line: nothing of them was due
    again = run_renewal(platform, date(2026, 4, 1))
    assert again.this_run["invoices_created"] == 0
    assert _consumption_lines(platform, group) == lines
