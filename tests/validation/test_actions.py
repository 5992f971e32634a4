"""The procedure against both databases: request, e-mail, review, approval, rejection, history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.validation.helpers import (
    BELGIAN_BIC,
    BELGIAN_IBAN,
    FORM,
    approve,
    count_procedures,
    emails,
    load,
    pdf_text,
    record_all_valid,
    request,
)
from voipdesk.accounts.models import Account
from voipdesk.core.clock import MovableClock
from voipdesk.core.errors import InvalidInput
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules
from voipdesk.validation.errors import (
    DocumentsIncomplete,
    PaymentMethodNotUsable,
    ProcedureAlreadyDecided,
    ProcedureNotAvailable,
    ProcedureNotFound,
    ProcedureTransitionRefused,
    RejectionReasonMissing,
    UnknownDocument,
)
from voipdesk.validation.models import VoipProcedureEvent

SUBJECT_FR = "[VoIPdesk Telecom - IMPORTANT] Nous attendons votre procédure VoIP pour finaliser votre commande."  # noqa: E501
SUBJECT_EN = (
    "[VoIPdesk Telecom - IMPORTANT] We are waiting for your VoIP procedure to finalise your order."
)


def test_on_demand_procedure_is_emailed_with_its_pdf(seeded: Platform, customer: Account) -> None:
    procedure = request(seeded, customer)
    assert procedure.status == rules.WAITING_FOR_CUSTOMER
    assert procedure.reason == rules.REASON_ON_DEMAND
    assert procedure.iban == "FR7630006000011234567890189"
    assert procedure.bic.startswith("AGRIFRPP")
    [email] = emails(seeded, customer, "validation-procedure")
    assert email.subject == SUBJECT_FR
    assert email.to_address == customer.email
    [attachment] = email.attachments
    assert attachment.content_type == "application/pdf"
    text = pdf_text(attachment.data)
    assert procedure.mandate_reference in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text
    assert "Photocopie recto/verso de votre pièce d'identité." in text
    assert "Dater et signer l'autorisation de prélèvement." in email.body_text


def test_english_customer_gets_the_english_subject(
    seeded: Platform, customer_factory: Callable[..., Account]
) -> None:
    customer = customer_factory(language="en", country="BE", kind="company")
    request(
        seeded,
        customer,
        actions.ProcedureForm(
            holder_name="Peeters & Fils SRL",
            holder_address="Rue Neuve 25, 1000 Bruxelles",
            iban=BELGIAN_IBAN,
            bic=BELGIAN_BIC,
        ),
    )
    [email] = emails(seeded, customer, "validation-procedure")
    assert email.subject == SUBJECT_EN
    assert "validation-be@voipdesk.example" in email.body_text
    assert "an identification document of the company" in email.body_text


def test_a_second_request_returns_the_open_one(seeded: Platform, customer: Account) -> None:
    first = request(seeded, customer)
    with seeded.transaction() as session:
        owner = session.get(Account, customer.id)
        again, created = actions.request_procedure(session, seeded, owner, FORM)
    assert not created and again.id == first.id
    assert count_procedures(seeded) == 1
    assert len(emails(seeded, customer, "validation-procedure")) == 1


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            actions.ProcedureForm(
                holder_name="", holder_address="x", iban="FR7630006000011234567890189"
            ),
            "holder_name",
        ),
        (
            actions.ProcedureForm(
                holder_name="A", holder_address="x", iban="FR7630006000011234567890188"
            ),
            "iban",
        ),
        (
            actions.ProcedureForm(
                holder_name="A",
                holder_address="x",
                iban="FR76300060000112345678901",
                bic="AGRIFRPP",
            ),
            "iban",
        ),
        (
            actions.ProcedureForm(
                holder_name="A",
                holder_address="x",
                iban="FR7630006000011234567890189",
                bic="NOTABIC",
            ),
            "bic",
        ),
        (
            actions.ProcedureForm(
                holder_name="A",
                holder_address="x",
                iban="FR7630006000011234567890189",
                bic="DEUTDEFF",
            ),
            "bic",
        ),
        (
            actions.ProcedureForm(
                holder_name="A", holder_address="", iban="FR7630006000011234567890189"
            ),
            "holder_address",
        ),
    ],
)
def test_bad_input_changes_nothing(
    seeded: Platform, customer: Account, form: actions.ProcedureForm, field: str
) -> None:
    before = len(emails(seeded, customer))
    with pytest.raises(InvalidInput) as refused:
        request(seeded, customer, form)
    assert field in refused.value.fields
    assert count_procedures(seeded) == 0
    assert len(emails(seeded, customer)) == before


def test_an_unknown_payment_method_is_refused(seeded: Platform, customer: Account) -> None:
    with pytest.raises(PaymentMethodNotUsable):
        request(seeded, customer, actions.ProcedureForm(payment_method_id="0" * 32))
    assert count_procedures(seeded) == 0


def test_an_existing_sepa_payment_method_fills_the_mandate(
    seeded: Platform, customer: Account
) -> None:
    from voipdesk.orders.actions import SepaInput, add_sepa_debit

    with seeded.transaction() as session:
        owner = session.get(Account, customer.id)
        method = add_sepa_debit(
            session,
            seeded,
            owner,
            SepaInput(
                iban="FR7630006000011234567890189",
                holder_name="Camille Martin",
                holder_address="12 rue des Lilas, 69003 Lyon",
                accept_mandate=True,
            ),
        )
        method_id = method.id
    procedure = request(seeded, customer, actions.ProcedureForm(payment_method_id=method_id))
    assert procedure.holder_name == "Camille Martin"
    assert procedure.iban == "FR7630006000011234567890189"
    assert procedure.payment_method_id == method_id


def test_no_procedure_in_quebec(seeded: Platform, customer_factory: Callable[..., Account]) -> None:
    customer = customer_factory(country="CA-QC", language="en")
    with pytest.raises(ProcedureNotAvailable):
        request(seeded, customer)


def test_review_then_approval_validates_the_account(
    seeded: Platform, customer_factory: Callable[..., Account], staff: Account
) -> None:
    customer = customer_factory(kind="company")
    procedure = request(seeded, customer)
    with seeded.transaction() as session:
        actions.record_document(
            session, seeded, staff, procedure.id, "kbis_extract", rules.RECEIVED
        )
    assert load(seeded, procedure.id).status == rules.DOING
    with pytest.raises(DocumentsIncomplete) as incomplete:
        approve(seeded, staff, procedure.id)
    assert "kbis_extract" in incomplete.value.extra["missing"]
    record_all_valid(seeded, staff, procedure)
    approve(seeded, staff, procedure.id)
    done = load(seeded, procedure.id)
    assert done.status == rules.DONE and done.decided_by == staff.id
    with seeded.session() as session:
        assert actions.is_validated(session, customer.id)
        assert actions.open_procedure_of(session, customer.id) is None
    with pytest.raises(ProcedureAlreadyDecided):
        approve(seeded, staff, procedure.id)
    assert [e.kind for e in emails(seeded, customer) if e.kind.startswith("validation")] == [
        "validation-procedure",
        "validation-approved",
    ]
    actions_done = [(event.action, event.actor) for event in done.events]
    assert actions_done[0] == ("created", f"account:{customer.id}")
    assert ("approved", f"staff:{staff.id}") in actions_done
    assert sum(1 for action, _ in actions_done if action == "document_recorded") == 6


def test_approving_while_waiting_is_refused(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    procedure = request(seeded, customer)
    with pytest.raises(ProcedureTransitionRefused):
        approve(seeded, staff, procedure.id)
    assert load(seeded, procedure.id).status == rules.WAITING_FOR_CUSTOMER


def test_rejection_tells_the_customer_what_is_missing(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    procedure = request(seeded, customer)
    with seeded.transaction() as session:
        actions.record_document(session, seeded, staff, procedure.id, "signed_mandate", rules.VALID)
        actions.record_document(
            session, seeded, staff, procedure.id, "identity_document", rules.INVALID, "Expired card"
        )
    with pytest.raises(RejectionReasonMissing), seeded.transaction() as session:
        actions.reject(session, seeded, staff, procedure.id, "  ")
    with seeded.transaction() as session:
        actions.reject(
            session, seeded, staff, procedure.id, "Identity card expired, cheque missing"
        )
    rejected = load(seeded, procedure.id)
    assert rejected.status == rules.WAITING_FOR_CUSTOMER
    assert rejected.rejection_reason == "Identity card expired, cheque missing"
    [email] = emails(seeded, customer, "validation-rejected")
    assert "Identity card expired, cheque missing" in email.body_text
    assert "Photocopie recto/verso de votre pièce d'identité. — Expired card" in email.body_text
    assert "Joindre un chèque annulé original" in email.body_text
    assert "Dater et signer" not in email.body_text  # already valid: not asked again
    # The customer sends again: the review starts over from what is still missing.
    with seeded.transaction() as session:
        actions.record_document(
            session, seeded, staff, procedure.id, "identity_document", rules.VALID
        )
    assert load(seeded, procedure.id).status == rules.DOING


def test_document_input_is_checked(seeded: Platform, customer: Account, staff: Account) -> None:
    procedure = request(seeded, customer)
    with pytest.raises(UnknownDocument), seeded.transaction() as session:
        actions.record_document(session, seeded, staff, procedure.id, "kbis_extract", rules.VALID)
    with pytest.raises(InvalidInput), seeded.transaction() as session:
        actions.record_document(
            session, seeded, staff, procedure.id, "signed_mandate", rules.INVALID, ""
        )
    unchanged = load(seeded, procedure.id)
    assert unchanged.status == rules.WAITING_FOR_CUSTOMER and unchanged.documents == []


def test_the_customer_cancels_and_may_start_again(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    procedure = request(seeded, customer)
    with seeded.transaction() as session:
        owner = session.get(Account, customer.id)
        actions.cancel_procedure(session, seeded, owner, procedure.id)
    assert load(seeded, procedure.id).status == rules.CANCELLED
    with pytest.raises(ProcedureAlreadyDecided), seeded.transaction() as session:
        owner = session.get(Account, customer.id)
        actions.cancel_procedure(session, seeded, owner, procedure.id)
    with pytest.raises(ProcedureAlreadyDecided), seeded.transaction() as session:
        actions.record_document(session, seeded, staff, procedure.id, "signed_mandate", rules.VALID)
    second = request(seeded, customer)
    assert second.id != procedure.id and second.mandate_reference != procedure.mandate_reference


def test_another_customers_procedure_is_not_found(
    seeded: Platform, customer: Account, customer_factory: Callable[..., Account]
) -> None:
    procedure = request(seeded, customer)
    intruder = customer_factory()
    with seeded.session() as session, pytest.raises(ProcedureNotFound):
        actions.get_procedure(session, intruder.id, procedure.id)
    with pytest.raises(ProcedureNotFound), seeded.transaction() as session:
        owner = session.get(Account, intruder.id)
        actions.cancel_procedure(session, seeded, owner, procedure.id)
    assert load(seeded, procedure.id).status == rules.WAITING_FOR_CUSTOMER


def test_staff_list_is_oldest_first_with_business_day_ages(
    seeded: Platform, clock: MovableClock, customer_factory: Callable[..., Account]
) -> None:
    clock.move_to(datetime(2026, 4, 3, 9, tzinfo=UTC))  # a Friday; Easter Monday follows
    older = request(seeded, customer_factory())
    clock.move_to(datetime(2026, 4, 6, 9, tzinfo=UTC))
    newer = request(seeded, customer_factory())
    clock.move_to(datetime(2026, 4, 8, 15, tzinfo=UTC))  # Wednesday
    with seeded.session() as session:
        rows, cursor = actions.list_procedures(session, [rules.WAITING_FOR_CUSTOMER], limit=1)
        assert [row.id for row in rows] == [older.id] and cursor
        rest, end = actions.list_procedures(
            session, [rules.WAITING_FOR_CUSTOMER], limit=1, cursor=cursor
        )
        assert [row.id for row in rest] == [newer.id] and end is None
        assert actions.age_in_business_days(seeded, rows[0]) == 2  # Tuesday, Wednesday
        assert actions.age_in_business_days(seeded, rest[0]) == 2
        assert actions.list_procedures(session, [rules.DONE])[0] == []


def test_billing_contact_change_waits_for_the_new_contact(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    with seeded.transaction() as session:
        procedure = actions.request_for_billing_contact_change(
            session, seeded, customer.id, ["+33123456789"]
        )
        assert procedure is not None
        procedure_id = procedure.id
    opened = load(seeded, procedure_id)
    assert opened.reason == rules.REASON_BILLING_CONTACT_CHANGE
    assert opened.status == rules.WAITING_FOR_CUSTOMER and opened.iban is None
    [email] = emails(seeded, customer, "validation-procedure")
    assert email.subject == SUBJECT_FR
    # The customer then fills in the bank details: the same procedure, sent again complete.
    completed = request(seeded, customer)
    assert completed.id == procedure_id and completed.iban == "FR7630006000011234567890189"
    assert len(emails(seeded, customer, "validation-procedure")) == 2
    record_all_valid(seeded, staff, completed)
    approve(seeded, staff, procedure_id)
    with seeded.transaction() as session:
        assert actions.is_validated(session, customer.id)
        assert actions.request_for_billing_contact_change(session, seeded, customer.id) is None


def test_every_action_is_in_the_history(
    seeded: Platform, customer: Account, staff: Account
) -> None:
    procedure = request(seeded, customer)
    record_all_valid(seeded, staff, procedure)
    approve(seeded, staff, procedure.id)
    with seeded.session() as session:
        events = list(
            session.scalars(
                select(VoipProcedureEvent)
                .where(VoipProcedureEvent.procedure_id == procedure.id)
                .order_by(VoipProcedureEvent.id)
            )
        )
    assert [event.action for event in events] == [
        "created",
        "sent",
        "document_recorded",
        "document_recorded",
        "document_recorded",
        "approved",
    ]
    assert [event.to_status for event in events] == [
        "todo",
        "waiting_for_customer",
        "doing",
        "doing",
        "doing",
        "done",
    ]
    assert all(event.at is not None and event.actor for event in events)
    assert drain(seeded) >= 0


def test_two_simultaneous_requests_make_one_procedure(seeded: Platform, customer: Account) -> None:
    import threading

    results: list[str] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def ask() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(request(seeded, customer).id)
        except BaseException as failure:  # reported below
            failures.append(failure)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(set(results)) == 1 and count_procedures(seeded) == 1
    assert len(emails(seeded, customer, "validation-procedure")) == 1


def test_demo_seed_leaves_a_procedure_for_the_back_office_and_the_belgian_company_to_order(
    seeded: Platform, customer_factory: Callable[..., Account], staff: Account
) -> None:
    from voipdesk.validation.demo import seed

    belgian = customer_factory(country="BE", kind="company")
    swiss = customer_factory(country="CH", kind="association")
    french = customer_factory()
    with seeded.transaction() as session:
        seed(session, seeded, [belgian, swiss, french])
    with seeded.session() as session:
        rows, _ = actions.list_procedures(session, None)
        # The Belgian company has none: its first order of VoIP services opens it.
        assert {(row.account_id, row.status) for row in rows} == {(swiss.id, rules.DOING)}
