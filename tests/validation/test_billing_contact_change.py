"""A change of the billing contact of VoIP services waits for the new contact's validation.

Through the real application on both databases: the owner names the new billing contact, that
contact accepts and gets the procedure, staff approve it in the back office, and the group is then
invoiced to the new contact at the next renewal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from tests.subscriptions.factories import deliver
from tests.validation.conftest import ApiClient
from tests.validation.helpers import emails
from voipdesk.accounts.models import Account
from voipdesk.billing.renewal import run_renewal
from voipdesk.core.events import drain_events
from voipdesk.subscriptions.models import BillingGroup, Service
from voipdesk.validation import actions as validation_actions

SUBJECT_END = "Nous attendons votre procédure VoIP pour finaliser votre commande."
BELGIAN_BANK = {
    "holder_name": "Dupont Import SPRL",
    "holder_address": "Rue Neuve 1, 1000 Bruxelles",
    "iban": "BE68 5390 0754 7034",
    "bic": "BBRUBEBB",
}
SWISS_BANK = {
    "holder_name": "Association Le Chalet",
    "holder_address": "Rue du Lac 2, 1200 Genève",
    "iban": "CH93 0076 2011 6238 5295 7",
    "bic": "UBSWCHZH80A",
}


def _patch(api: ApiClient, account: Account, path: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return api.client.patch("/api/v1" + path, headers=api.headers_for(account), json=body)


def _delete(api: ApiClient, account: Account, path: str):  # type: ignore[no-untyped-def]
    return api.client.delete("/api/v1" + path, headers=api.headers_for(account))


def _accept(api: ApiClient, contact: Account) -> dict[str, Any]:
    [request] = api.get("/me/billing-contact-requests", contact).json()["items"]
    answer = api.post(f"/me/billing-contact-requests/{request['id']}/accept", contact)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _group_of(platform: Any, owner: Account) -> str:
    return deliver(platform, owner.id, lines=[("sip-decouverte", 1)], aliases=1).billing_group_id


def _billing_accounts(platform: Any, group_id: str) -> tuple[str, set[str]]:
    with platform.session() as session:
        group = session.get(BillingGroup, group_id)
        services = session.query(Service).filter(Service.billing_group_id == group_id).all()
        return group.billing_account_id, {service.account_id for service in services}


def test_change_waits_for_the_new_contact_then_applies_on_approval(
    api: ApiClient, seeded: Any, customer_factory: Callable[..., Account], staff: Account
) -> None:
    owner = customer_factory()
    new_contact = customer_factory(country="BE", kind="company", language="fr")
    group = _group_of(seeded, owner)

    answer = _patch(api, owner, f"/telephony/{group}", {"billing_contact": new_contact.handle})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["billing_contact"] == owner.handle  # not yet
    asked = body["billing_contact_change"]
    assert asked["state"] == "waiting_for_acceptance"
    assert (asked["from_contact"], asked["to_contact"]) == (owner.handle, new_contact.handle)
    # Nobody is invoiced without consent: the named contact is asked first, and only it may answer.
    [request] = emails(seeded, new_contact, "billing-contact-request")
    assert owner.handle in request.subject
    assert emails(seeded, new_contact, "validation-procedure") == []
    stranger = customer_factory()
    stolen = api.post(f"/me/billing-contact-requests/{asked['id']}/accept", stranger)
    assert stolen.status_code == 404
    assert api.get("/me/billing-contact-requests", stranger).json()["items"] == []
    change = _accept(api, new_contact)
    assert change["state"] == "waiting_for_validation"
    assert (
        api.get(f"/telephony/{group}", owner).json()["billing_contact_change"]["id"] == asked["id"]
    )
    assert _billing_accounts(seeded, group) == (owner.id, {owner.id})

    # The new contact received the procedure, PDF attached, and sees it in the customer space.
    [mail] = emails(seeded, new_contact, "validation-procedure")
    assert mail.subject.endswith(SUBJECT_END) and "IMPORTANT" in mail.subject
    assert [a.content_type for a in mail.attachments] == ["application/pdf"]
    assert "Vous avez été désigné contact facturation de services VoIP" in mail.body_text
    status = api.get("/telephony/procedure", new_contact).json()
    assert status["required"] is True
    procedure = status["procedure"]
    assert procedure["id"] == change["procedure_id"]
    assert procedure["reason"] == "billing_contact_change"

    # A second change while one waits is refused, naming the contact it waits for.
    refused = _patch(api, owner, f"/telephony/{group}", {"billing_contact": stranger.handle})
    assert refused.status_code == 409
    assert refused.json()["type"] == "billing-contact-change-waiting"
    assert new_contact.handle in refused.json()["detail"]

    # The new contact completes the bank details; staff review and approve.
    assert api.post("/telephony/procedure", new_contact, json=BELGIAN_BANK).status_code == 200
    for code in ("identity_document", "letterhead_authorisation", "proof_of_address"):
        recorded = api.post(
            f"/backoffice/procedures/{procedure['id']}/documents",
            staff,
            json={"code": code, "status": "valid"},
        )
        assert recorded.status_code == 200, recorded.text
    approved = api.post(f"/backoffice/procedures/{procedure['id']}/approve", staff)
    assert approved.status_code == 200, approved.text
    drain_events(seeded)  # subscriptions applies the change on `validation.approved`

    after = api.get(f"/telephony/{group}", owner).json()
    assert after["billing_contact"] == new_contact.handle
    assert after["billing_contact_change"] is None
    assert _billing_accounts(seeded, group) == (new_contact.id, {new_contact.id})
    assert len(emails(seeded, owner, "billing-contact-changed")) == 1
    [told] = emails(seeded, new_contact, "billing-contact-changed")
    assert "Vous êtes désormais le contact facturation" in told.body_text

    # The next renewal invoices the new contact, not the owner.
    run_renewal(seeded, date(2026, 4, 1))
    new_invoices = api.get("/me/invoices", new_contact).json()["items"]
    assert len(new_invoices) == 1
    assert api.get("/me/invoices", owner).json()["items"] == []


def test_a_validated_contact_or_one_without_procedure_applies_at_once(
    api: ApiClient, seeded: Any, customer_factory: Callable[..., Account]
) -> None:
    owner = customer_factory()
    validated = customer_factory()
    with seeded.transaction() as session:
        validation_actions.mark_validated(session, seeded, validated.id)
    group = _group_of(seeded, owner)
    answer = _patch(api, owner, f"/telephony/{group}", {"billing_contact": validated.email})
    assert answer.status_code == 200, answer.text
    assert answer.json()["billing_contact"] == owner.handle  # until the contact accepts
    assert _accept(api, validated)["state"] == "applied"
    moved = api.get(f"/telephony/{group}", owner).json()
    assert moved["billing_contact"] == validated.handle
    assert moved["billing_contact_change"] is None
    assert emails(seeded, validated, "validation-procedure") == []

    # Québec has no validation procedure (no SEPA mandate): nothing to wait for.
    quebec = customer_factory(country="CA-QC")
    second = _group_of(seeded, owner)
    assert _patch(api, owner, f"/telephony/{second}", {"billing_contact": quebec.handle}).is_success
    assert _accept(api, quebec)["state"] == "applied"
    assert api.get(f"/telephony/{second}", owner).json()["billing_contact"] == quebec.handle


def test_refusals_change_nothing_and_a_waiting_change_can_be_cancelled(
    api: ApiClient, seeded: Any, customer_factory: Callable[..., Account], staff: Account
) -> None:
    owner = customer_factory(language="en")
    stranger = customer_factory()
    group = _group_of(seeded, owner)
    path = f"/telephony/{group}"

    unknown = _patch(api, owner, path, {"billing_contact": "zz99999-vd"})
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "billing-contact-unknown"
    assert [e["field"] for e in unknown.json()["errors"]] == ["billing_contact"]
    same = _patch(api, owner, path, {"billing_contact": owner.handle})
    assert same.status_code == 422 and same.json()["type"] == "billing-contact-unchanged"
    staff_contact = _patch(api, owner, path, {"billing_contact": staff.handle})
    assert staff_contact.status_code == 422
    # Another customer's group answers exactly like a missing one.
    foreign = _patch(api, stranger, path, {"billing_contact": stranger.handle})
    assert foreign.status_code == 404
    assert _delete(api, owner, f"{path}/billing-contact-change").status_code == 404
    assert _billing_accounts(seeded, group) == (owner.id, {owner.id})

    # The named contact may refuse: nothing changes, and the owner may name someone else.
    refuser = customer_factory()
    assert _patch(api, owner, path, {"billing_contact": refuser.handle}).status_code == 200
    [request] = api.get("/me/billing-contact-requests", refuser).json()["items"]
    no = api.post(f"/me/billing-contact-requests/{request['id']}/refuse", refuser)
    assert no.status_code == 200 and no.json()["state"] == "refused"
    again = api.post(f"/me/billing-contact-requests/{request['id']}/accept", refuser)
    assert again.status_code == 404
    assert api.get(path, owner).json()["billing_contact_change"] is None
    assert _billing_accounts(seeded, group) == (owner.id, {owner.id})

    new_contact = customer_factory(country="CH")
    assert _patch(api, owner, path, {"billing_contact": new_contact.handle}).status_code == 200
    _accept(api, new_contact)
    assert _delete(api, stranger, f"{path}/billing-contact-change").status_code == 404
    assert _delete(api, owner, f"{path}/billing-contact-change").status_code == 204
    assert api.get(path, owner).json()["billing_contact_change"] is None

    # The new contact's procedure goes on by itself; its approval no longer moves this group.
    procedure_id = api.get("/telephony/procedure", new_contact).json()["procedure"]["id"]
    assert api.post("/telephony/procedure", new_contact, json=SWISS_BANK).status_code == 200
    for code in ("identity_document", "proof_of_address"):
        api.post(
            f"/backoffice/procedures/{procedure_id}/documents",
            staff,
            json={"code": code, "status": "valid"},
        )
    assert api.post(f"/backoffice/procedures/{procedure_id}/approve", staff).status_code == 200
    drain_events(seeded)
    assert _billing_accounts(seeded, group) == (owner.id, {owner.id})
