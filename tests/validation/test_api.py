"""The validation API: the customer's procedure and the staff's review, with their refusals."""

from __future__ import annotations

from collections.abc import Callable

from tests.validation.conftest import ApiClient
from tests.validation.helpers import GOOD_BIC, GOOD_IBAN, count_procedures, pdf_text
from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform

BODY = {
    "holder_name": "Camille Martin",
    "holder_address": "12 rue des Lilas, 69003 Lyon",
    "iban": GOOD_IBAN,
    "bic": GOOD_BIC,
}


def test_customer_generates_downloads_and_follows_the_procedure(
    api: ApiClient, customer: Account
) -> None:
    status = api.get("/telephony/procedure", customer).json()
    expected = status.pop("expected")
    assert expected["send_to"]["channel"] == "post"
    assert expected["documents"][0]["text"] == "Dater et signer l'autorisation de prélèvement."
    assert status == {
        "available": True,
        "validated": False,
        "validated_at": None,
        "required": False,
        "orders_waiting": [],
        "procedure": None,
    }
    created = api.post("/telephony/procedure", customer, json=BODY)
    assert created.status_code == 201, created.text
    procedure = created.json()
    assert procedure["status"] == "waiting_for_customer"
    assert procedure["send_to"] == {
        "channel": "post",
        "address": "1 rue de la Paix, 75002 Paris, France",
        "originals_required": True,
    }
    assert [d["code"] for d in procedure["documents"]] == [
        "signed_mandate",
        "cancelled_cheque",
        "identity_document",
    ]
    assert procedure["documents"][2]["text"] == "Photocopie recto/verso de votre pièce d'identité."
    assert procedure["action_needed"]
    again = api.post("/telephony/procedure", customer, json=BODY)
    assert again.status_code == 200 and again.json()["id"] == procedure["id"]
    status = api.get("/telephony/procedure", customer).json()
    assert status["required"] is True and status["procedure"]["id"] == procedure["id"]
    pdf = api.get(f"/telephony/procedure/{procedure['id']}/pdf", customer)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert procedure["mandate_reference"] in pdf_text(pdf.content)
    cancelled = api.post(f"/telephony/procedure/{procedure['id']}/cancel", customer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = api.post(f"/telephony/procedure/{procedure['id']}/cancel", customer)
    assert twice.status_code == 409 and twice.json()["type"] == "procedure-already-decided"


def test_bad_input_is_a_clear_problem(seeded: Platform, api: ApiClient, customer: Account) -> None:
    bad_iban = api.post(
        "/telephony/procedure", customer, json=BODY | {"iban": "FR7630006000011234567890188"}
    )
    assert bad_iban.status_code == 422
    assert bad_iban.headers["content-type"].startswith("application/problem+json")
    assert bad_iban.json()["type"] == "invalid-iban"
    assert [e["field"] for e in bad_iban.json()["errors"]] == ["iban"]
    bad_bic = api.post("/telephony/procedure", customer, json=BODY | {"bic": "DEUTDEFF"})
    assert bad_bic.status_code == 422 and bad_bic.json()["errors"][0]["field"] == "bic"
    no_name = api.post("/telephony/procedure", customer, json=BODY | {"holder_name": " "})
    assert no_name.status_code == 422
    assert no_name.json()["errors"] == [
        {"field": "holder_name", "message": "Le nom du titulaire du compte est obligatoire."}
    ]
    assert count_procedures(seeded) == 0


def test_staff_review_approve_and_refusals(
    api: ApiClient, customer_factory: Callable[..., Account], staff: Account
) -> None:
    customer = customer_factory(country="CH", kind="individual", language="en")
    body = {
        "holder_name": "Marc Favre",
        "holder_address": "Avenue de la Gare 8, 1003 Lausanne",
        "iban": "CH93 0076 2011 6238 5295 7",
        "bic": "UBSWCHZH80A",
    }
    procedure = api.post("/telephony/procedure", customer, json=body).json()
    assert procedure["send_to"]["address"] == "validation-ch@voipdesk.example"
    pid = procedure["id"]
    # A customer cannot use the back office.
    assert api.get("/backoffice/procedures", customer).status_code == 403
    assert api.post(f"/backoffice/procedures/{pid}/approve", customer).status_code == 403
    assert api.get("/backoffice/procedures", None).status_code == 401
    listed = api.get("/backoffice/procedures?status=waiting_for_customer", staff).json()
    assert [item["id"] for item in listed["items"]] == [pid]
    assert listed["items"][0]["age_business_days"] == 0
    assert listed["items"][0]["account"]["handle"] == customer.handle
    unknown = api.post(
        f"/backoffice/procedures/{pid}/documents",
        staff,
        json={"code": "kbis_extract", "status": "valid"},
    )
    assert unknown.status_code == 422 and unknown.json()["type"] == "unknown-procedure-document"
    early = api.post(f"/backoffice/procedures/{pid}/approve", staff)
    assert early.status_code == 409
    for code in ("identity_document", "proof_of_address"):
        answer = api.post(
            f"/backoffice/procedures/{pid}/documents",
            staff,
            json={"code": code, "status": "valid", "note": ""},
        )
        assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "doing"
    approved = api.post(f"/backoffice/procedures/{pid}/approve", staff)
    assert approved.status_code == 200 and approved.json()["status"] == "done"
    assert approved.json()["history"][-1]["actor"] == f"staff:{staff.id}"
    twice = api.post(f"/backoffice/procedures/{pid}/approve", staff)
    assert twice.status_code == 409 and twice.json()["type"] == "procedure-already-decided"
    status = api.get("/telephony/procedure", customer).json()
    assert status["validated"] is True and status["procedure"]["status"] == "done"
    assert api.get("/backoffice/procedures?status=done", staff).json()["items"][0]["id"] == pid
    assert api.get("/backoffice/procedures?status=nonsense", staff).status_code == 422


def test_reject_needs_a_reason(api: ApiClient, customer: Account, staff: Account) -> None:
    pid = api.post("/telephony/procedure", customer, json=BODY).json()["id"]
    api.post(
        f"/backoffice/procedures/{pid}/documents",
        staff,
        json={"code": "identity_document", "status": "invalid", "note": "Unreadable copy"},
    )
    refused = api.post(f"/backoffice/procedures/{pid}/reject", staff, json={"reason": ""})
    assert refused.status_code == 422
    rejected = api.post(
        f"/backoffice/procedures/{pid}/reject", staff, json={"reason": "Copy unreadable"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "waiting_for_customer"
    assert rejected.json()["rejection_reason"] == "Copy unreadable"


def test_another_customers_procedure_answers_404(
    api: ApiClient, customer: Account, customer_factory: Callable[..., Account]
) -> None:
    pid = api.post("/telephony/procedure", customer, json=BODY).json()["id"]
    intruder = customer_factory()
    for path in (f"/telephony/procedure/{pid}", f"/telephony/procedure/{pid}/pdf"):
        assert api.get(path, intruder).status_code == 404
    assert api.post(f"/telephony/procedure/{pid}/cancel", intruder).status_code == 404
    assert api.get(f"/telephony/procedure/{'0' * 32}", intruder).status_code == 404
    assert (
        api.get(f"/telephony/procedure/{pid}", customer).json()["status"] == "waiting_for_customer"
    )
