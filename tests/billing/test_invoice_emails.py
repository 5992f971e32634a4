"""Each renewal invoice is e-mailed once to its billing contact, in their language, with its PDF,
and kept in their service e-mails; the run only queues them, the outbox sends them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from tests.accounts.factories import make_account
from tests.billing.helpers import add_sepa_method
from tests.subscriptions.factories import deliver
from voipdesk.accounts.actions import list_service_emails
from voipdesk.accounts.models import EmailAttachment, ServiceEmail
from voipdesk.billing.actions import INVOICE_EMAIL
from voipdesk.billing.renewal import run_renewal
from voipdesk.core.outbox import OutboxMessage, drain


def _invoice_emails(platform, account_id):
    return [
        email
        for email in list_service_emails(platform, account_id).items
        if email.kind == "invoice"
    ]


def test_each_invoice_is_emailed_once_in_the_contacts_language_with_its_pdf(platform, clock):
    french = make_account(platform, language="fr")
    english = make_account(platform, language="en", country="BE")
    add_sepa_method(platform, french.id)
    deliver(platform, french.id, lines=[("sip-entreprise", 2)], aliases=1)
    deliver(platform, english.id, lines=[("sip-decouverte", 1)])
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))

    summary = run_renewal(platform, date(2026, 4, 1))
    assert summary.invoice_emails == 2
    # Queued with the invoices, not sent by the run.
    assert _invoice_emails(platform, french.id) == []
    topic = OutboxMessage.topic == INVOICE_EMAIL
    assert drain(platform, where=topic) == 2
    assert run_renewal(platform, date(2026, 4, 1)).did_nothing
    assert drain(platform, where=topic) == 0  # nothing queued twice

    [fr_email] = _invoice_emails(platform, french.id)
    [en_email] = _invoice_emails(platform, english.id)
    assert fr_email.subject.startswith("[") and "Votre facture 2026-" in fr_email.subject
    assert "sera prélevée sur votre compte bancaire" in fr_email.body_text
    assert "TTC" in fr_email.body_text and "1 avril 2026" in fr_email.body_text
    assert "Your invoice 2026-" in en_email.subject
    assert "Pay it from your customer space" in en_email.body_text
    for email in (fr_email, en_email):
        [attachment] = email.attachments
        assert attachment.content_type == "application/pdf"
        assert attachment.filename.startswith("invoice-2026-")
    with platform.session() as session:
        data = session.scalar(
            select(EmailAttachment.data).where(EmailAttachment.email_id == fr_email.id)
        )
        assert data is not None and data.startswith(b"%PDF")
        assert (
            session.scalar(
                select(func.count()).select_from(ServiceEmail).where(ServiceEmail.kind == "invoice")
            )
            == 2
        )


def test_a_delivery_that_fails_is_retried_without_a_second_email(platform, clock, monkeypatch):
    account = make_account(platform)
    deliver(platform, account.id, lines=[("sip-decouverte", 1)])
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    from voipdesk.invoices import services as invoice_services

    calls = {"n": 0}
    original = invoice_services.invoice_pdf

    def failing_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("PDF renderer crashed")
        return original(*args, **kwargs)

    monkeypatch.setattr(invoice_services, "invoice_pdf", failing_once)
    topic = OutboxMessage.topic == INVOICE_EMAIL
    drain(platform, where=topic)  # fails, rolled back, retried later
    assert _invoice_emails(platform, account.id) == []
    clock.move_to(datetime(2026, 4, 1, 1, 30, tzinfo=UTC))
    drain(platform, where=topic)
    assert len(_invoice_emails(platform, account.id)) == 1
