"""State and kind codes never appear inside a sentence: refusals show the translated label."""

from __future__ import annotations

from voipdesk.catalogue.errors import PaymentMethodNotAllowed
from voipdesk.orders.errors import InvalidTransition, OrderNotPayable
from voipdesk.subscriptions.errors import OfferChangeNotAllowed, ServiceNotLive
from voipdesk.validation.errors import (
    DocumentsIncomplete,
    ProcedureAlreadyDecided,
    ProcedureTransitionRefused,
)


def test_a_procedure_state_is_named_by_its_label() -> None:
    error = ProcedureTransitionRefused(state="waiting_for_customer", action="approved")
    assert error.detail("fr") == (
        "Une procédure dans l'état «\u00a0En attente de vos documents\u00a0» "
        "ne peut pas être approuvée."
    )
    assert "waiting_for_customer" not in error.detail("en") and "approved" in error.detail("en")
    assert "done" not in ProcedureAlreadyDecided(state="done").detail("fr")


def test_missing_documents_are_listed_by_their_names_for_staff() -> None:
    detail = DocumentsIncomplete(missing=["identity_document", "kbis_extract"]).detail("fr")
    # Staff record each document in a row named by its label: the sentence names them the same way.
    assert detail.endswith(": la pièce d'identité, l'extrait Kbis.")
    assert "identity_document" not in detail and "kbis_extract" not in detail


def test_orders_services_offers_and_payment_methods_by_label() -> None:
    assert "«\u00a0Annulée\u00a0»" in OrderNotPayable(state="cancelled").detail("fr")
    transition = InvalidTransition(from_state="delivered", to_state="not_paid").detail("fr")
    assert "delivered" not in transition and "not_paid" not in transition
    assert "«\u00a0Résilié\u00a0»" in ServiceNotLive(state="terminated").detail("fr")
    offer = OfferChangeNotAllowed(number="+33123456789", current="alias", target="sip-entreprise")
    assert "de Numéro alias à VoIP Entreprise" in offer.detail("fr")
    method = PaymentMethodNotAllowed(method="bank_transfer", country="FR", kind="individual")
    assert method.detail("fr") == (
        "Le paiement par Virement bancaire n'est pas proposé à ce compte "
        "(pays FR, Client particulier)."
    )
    assert "bank_transfer" not in str(method)


def test_a_value_that_is_not_a_code_passes_through() -> None:
    assert "«\u00a0Mystery\u00a0»" in OrderNotPayable(state="Mystery").detail("fr")


def test_an_offer_code_is_named_by_the_offer() -> None:
    from voipdesk.orders.errors import QuantityOutOfRange

    detail = QuantityOutOfRange(quantity=31, offer="alias-number", allowed="1-30").detail("fr")
    assert "Numéro alias" in detail and "alias-number" not in detail
