"""A Python client generated from the served OpenAPI plays a customer's journey against the app
served on a free port, as an integrator's script would: sign up, look at the catalogue, order
(with an idempotency key), pay with the sandbox card, staff approve the VoIP procedure, list the
lines page by page, read the simultaneous calls, download the invoice PDF."""

from __future__ import annotations

import importlib
from typing import Any

from tests.accounts.factories import PASSWORD, make_account
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.validation.rules import document_codes


def _call(client_package: Any, module: str, client: Any, **kwargs: Any) -> Any:
    """Calls `voipdesk_client.api.<module>.sync_detailed`; returns the parsed answer."""
    function = importlib.import_module(f"voipdesk_client.api.{module}")
    answer = function.sync_detailed(client=client, **kwargs)
    assert 200 <= answer.status_code < 300, (module, answer.status_code, answer.content)
    return answer.parsed


def _model(name: str, data: dict[str, Any]) -> Any:
    return getattr(importlib.import_module("voipdesk_client.models"), name).from_dict(data)


def test_a_generated_client_orders_pays_lists_lines_and_downloads_the_invoice(
    client_package: Any, live_server: str, platform: Platform
) -> None:
    anonymous = client_package.Client(base_url=live_server, raise_on_unexpected_status=True)
    account = _call(
        client_package,
        "accounts.sign_up",
        anonymous,
        body=_model(
            "SignUpData",
            {
                "kind": "company",
                "country": "FR",
                "language": "en",
                "first_name": "Léa",
                "last_name": "Rousseau",
                "organisation_name": "Rousseau Conseil SAS",
                "registration_number": "732829320",
                "address_line1": "12 rue de la République",
                "postal_code": "69002",
                "city": "Lyon",
                "email": "lea@example.com",
                "mobile": "+33612345678",
                "password": PASSWORD,
            },
        ),
    )
    assert account.handle.endswith("-vd")
    token = _call(
        client_package,
        "accounts.create_token",
        anonymous,
        body=_model("TokenCreate", {"login": "lea@example.com", "password": PASSWORD}),
    )
    lea = client_package.AuthenticatedClient(base_url=live_server, token=token.token)

    catalogue = _call(client_package, "catalogue.get_catalogue", lea, country="FR")
    assert "sip-decouverte" in {offer.code for offer in catalogue.offers}

    terms = {"terms_of_sale": "2026-01-01", "telephony_terms": "2026-01-01"}
    order_body = _model(
        "OrderIn",
        {"lines": [{"offer": "sip-decouverte", "quantity": 3}], "accepted_terms": terms},
    )
    order = _call(
        client_package, "orders.create_order", lea, body=order_body, idempotency_key="journey-1"
    )
    again = _call(
        client_package, "orders.create_order", lea, body=order_body, idempotency_key="journey-1"
    )
    assert again.id == order.id  # the same key replays the first answer
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    payment = _call(
        client_package,
        "orders.pay_order",
        lea,
        order_id=order.id,
        body=_model("PaymentIn", {"method": "card", "card": card}),
        idempotency_key="journey-pay-1",
    )
    assert payment.status == "succeeded"
    assert _call(client_package, "orders.get_order", lea, order_id=order.id).state == "validation"

    # the first VoIP order asks for the VoIP procedure: Léa fills it in, staff review it
    _call(
        client_package,
        "validation.create_procedure",
        lea,
        body=_model(
            "ProcedureIn",
            {
                "holder_name": "Rousseau Conseil SAS",
                "holder_address": "12 rue de la République, 69002 Lyon",
                "iban": "FR76 3000 6000 0112 3456 7890 189",
                "bic": "AGRIFRPP",
            },
        ),
    )
    make_account(platform, email="staff@example.com", is_staff=True)
    staff_token = _call(
        client_package,
        "accounts.create_token",
        anonymous,
        body=_model("TokenCreate", {"login": "staff@example.com", "password": PASSWORD}),
    )
    staff = client_package.AuthenticatedClient(base_url=live_server, token=staff_token.token)
    procedures = _call(client_package, "validation.list_procedures", staff)
    (procedure,) = [p for p in procedures.items if p.account.handle == account.handle]
    for code in document_codes("company", "FR"):
        _call(
            client_package,
            "validation.record_document",
            staff,
            procedure_id=procedure.id,
            body=_model("DocumentIn", {"code": code, "status": "valid"}),
        )
    _call(client_package, "validation.approve_procedure", staff, procedure_id=procedure.id)
    drain(platform)  # the worker: the order is released and delivered
    assert _call(client_package, "orders.get_order", lea, order_id=order.id).state == "delivered"

    (group,) = _call(client_package, "services.list_groups", lea).items
    numbers: list[str] = []
    cursor: Any = None
    pages = 0
    while True:
        page = _call(
            client_package,
            "services.list_lines",
            lea,
            group=group.id,
            limit=2,
            **({} if cursor is None else {"cursor": cursor}),
        )
        pages += 1
        numbers += [line.number for line in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert pages == 2
    assert len(numbers) == len(set(numbers)) == 3
    calls = _call(
        client_package, "services.get_simultaneous_calls", lea, group=group.id, number=numbers[0]
    )
    assert calls.simultaneous_calls == 1  # Découverte: one call, fixed

    (invoice,) = _call(client_package, "invoices.list_invoices", lea).items
    assert invoice.order_id == order.id
    pdf = _call(client_package, "invoices.download_invoice_pdf", lea, invoice_id=invoice.id)
    assert pdf.payload.read().startswith(b"%PDF")
