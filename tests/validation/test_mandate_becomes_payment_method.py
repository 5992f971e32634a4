"""The SEPA mandate signed in the validation procedure becomes the customer's direct-debit
payment method, and the pain.008 file debits it under the same reference (FRST, then RCUR)."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

from sqlalchemy import select

from tests.subscriptions.factories import deliver
from tests.validation.conftest import ApiClient
from tests.validation.helpers import GOOD_BIC, approve, record_all_valid, request
from voipdesk.accounts.models import Account
from voipdesk.billing.models import SepaFile
from voipdesk.billing.renewal import run_renewal
from voipdesk.core.platform import Platform
from voipdesk.payments.models import PaymentMethod

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


def _debits(xml: str) -> list[tuple[str, str, str]]:
    """(mandate reference, signature date, sequence type) of each debit in the file."""
    root = ElementTree.fromstring(xml)
    found = []
    for batch in root.iter(f"{{{NS['p']}}}PmtInf"):
        sequence = batch.find("p:PmtTpInf/p:SeqTp", NS)
        for debit in batch.findall("p:DrctDbtTxInf", NS):
            mandate = debit.find("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", NS)
            signed = debit.find("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", NS)
            assert mandate is not None and signed is not None and sequence is not None
            found.append((mandate.text or "", signed.text or "", sequence.text or ""))
    return found


def test_pain008_mandate_reference_equals_the_procedures(
    seeded: Platform, api: ApiClient, customer: Account, staff: Account
) -> None:
    procedure = request(seeded, customer)
    record_all_valid(seeded, staff, procedure)
    approve(seeded, staff, procedure.id)
    approve_again = api.post(f"/backoffice/procedures/{procedure.id}/approve", staff)
    assert approve_again.status_code == 409  # decided once: nothing made twice
    with seeded.session() as session:
        [method] = session.scalars(
            select(PaymentMethod).where(PaymentMethod.account_id == customer.id)
        ).all()
    assert method.method_type == "sepa_debit" and method.is_default
    assert method.mandate_reference == procedure.mandate_reference
    assert method.iban == "FR7630006000011234567890189" and method.bic == GOOD_BIC
    assert method.mandate_signed_on == seeded.today()
    listed = api.get("/me/payment-methods", customer).json()["items"]
    assert [m["sepa_debit"]["mandate_reference"] for m in listed] == [procedure.mandate_reference]

    deliver(seeded, customer.id, lines=[("sip-entreprise", 1)])
    run_renewal(seeded, date(2026, 4, 1))
    run_renewal(seeded, date(2026, 5, 1))
    with seeded.session() as session:
        files = session.scalars(select(SepaFile).order_by(SepaFile.collection_date)).all()
        debits = [_debits(f.xml) for f in files]
    signed = method.mandate_signed_on.isoformat()  # type: ignore[union-attr]
    assert debits == [
        [(procedure.mandate_reference, signed, "FRST")],
        [(procedure.mandate_reference, signed, "RCUR")],
    ]
