"""Snapshots of what the renewal stored, to compare runs."""
# ruff: noqa: E501  (SQL reads better unwrapped)

from __future__ import annotations

from sqlalchemy import text

from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.payments.models import PaymentMethod


def add_sepa_method(platform: Platform, account_id: str) -> None:
    with platform.transaction() as session:
        session.add(
            PaymentMethod(
                id=new_id(),
                account_id=account_id,
                method_type="sepa_debit",
                is_default=True,
                label="IBAN",
                iban="FR7630006000011234567890189",
                bic="AGRIFRPP",
                holder_name="Jeanne Martin",
                holder_address="1 rue X, Paris",
                mandate_reference=f"M-{new_id()[:10]}",
                mandate_signed_on=platform.today(),
                created_at=platform.now(),
            )
        )


def snapshot(platform: Platform) -> dict[str, object]:
    with platform.session() as session:

        def rows(sql: str) -> list[tuple]:
            return [tuple(row) for row in session.execute(text(sql)).all()]

        return {
            "invoices": rows(
                "SELECT number, billing_group_id, renewal_period, total_excl_tax_cents, total_tax_cents,"
                " total_incl_tax_cents, status FROM invoice ORDER BY number"
            ),
            "lines": rows(
                "SELECT i.number, l.service_id, l.period_start, l.amount_excl_tax_cents FROM invoice_line l"
                " JOIN invoice i ON i.id = l.invoice_id ORDER BY i.number, l.service_id"
            ),
            "taxes": rows(
                "SELECT i.number, t.label, t.rate_ppm, t.base_cents, t.tax_cents FROM invoice_tax t"
                " JOIN invoice i ON i.id = t.invoice_id ORDER BY i.number, t.label"
            ),
            "services": rows(
                "SELECT id, kind, offer_code, state, expiry_on, monthly_price_e4 FROM service ORDER BY id"
            ),
            "collections": rows(
                "SELECT i.number, c.method_type, c.amount_cents, c.state FROM billing_collection c"
                " JOIN invoice i ON i.id = c.invoice_id ORDER BY i.number"
            ),
            "counter": rows("SELECT year, last_value FROM invoice_number_counter ORDER BY year"),
            "parties": rows("SELECT COUNT(*) FROM invoice_party"),
            "sepa_debits": rows("SELECT COALESCE(SUM(debits), 0) FROM billing_sepa_file"),
        }
