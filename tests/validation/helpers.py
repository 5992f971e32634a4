"""Small helpers of the validation tests."""

from __future__ import annotations

import io

import pypdf
from sqlalchemy import select

from voipdesk.accounts.models import Account, ServiceEmail
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules
from voipdesk.validation.models import VoipProcedure

GOOD_IBAN = "FR76 3000 6000 0112 3456 7890 189"
GOOD_BIC = "AGRIFRPP"
BELGIAN_IBAN = "BE68 5390 0754 7034"
BELGIAN_BIC = "BBRUBEBB"
SWISS_IBAN = "CH93 0076 2011 6238 5295 7"
SWISS_BIC = "UBSWCHZH80A"

FORM = actions.ProcedureForm(
    holder_name="Camille Martin",
    holder_address="12 rue des Lilas, 69003 Lyon",
    iban=GOOD_IBAN,
    bic=GOOD_BIC,
)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split())


def request(
    platform: Platform, account: Account, form: actions.ProcedureForm = FORM
) -> VoipProcedure:
    with platform.transaction() as session:
        owner = session.get(Account, account.id)
        assert owner is not None
        procedure, _ = actions.request_procedure(session, platform, owner, form)
        return procedure


def load(platform: Platform, procedure_id: str) -> VoipProcedure:
    with platform.session() as session:
        return actions.get_procedure(session, None, procedure_id)


def emails(platform: Platform, account: Account, kind: str | None = None) -> list[ServiceEmail]:
    with platform.session() as session:
        query = select(ServiceEmail).where(ServiceEmail.account_id == account.id)
        if kind:
            query = query.where(ServiceEmail.kind == kind)
        found = list(session.scalars(query.order_by(ServiceEmail.created_at)))
        for email in found:
            _ = list(email.attachments)
        return found


def record_all_valid(platform: Platform, staff: Account, procedure: VoipProcedure) -> None:
    for code in rules.document_codes(procedure.customer_kind, procedure.country):
        with platform.transaction() as session:
            actions.record_document(session, platform, staff, procedure.id, code, rules.VALID)


def approve(platform: Platform, staff: Account, procedure_id: str) -> VoipProcedure:
    with platform.transaction() as session:
        return actions.approve(session, platform, staff, procedure_id)


def count_procedures(platform: Platform) -> int:
    with platform.session() as session:
        return len(list(session.scalars(select(VoipProcedure.id))))
