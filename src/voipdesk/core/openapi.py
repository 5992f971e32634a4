"""The OpenAPI description as integrators read it and generate clients from it.

`install(app)` wraps `app.openapi` (so that another customisation may wrap it too, in any order)
and makes the description:
- one tag per area (the area of the route's module: `voipdesk.<area>...`), described once;
- operation ids that read as verbs (`list_lines`, `pay_order`): the route function's name, or the
  name given here in `OPERATION_IDS` when the function's own name does not read as one;
- component schemas with unique, meaningful names: FastAPI names two models of one name in two
  modules by their module path (`voipdesk__invoices__api__TaxOut`), which generators reject; they
  become `<Area><Name>` (`InvoiceTaxOut`), title included (generators name classes by title);
- binary answers declared (`application/pdf`, `text/csv`, `application/octet-stream` as strings
  of format binary), so that a generated client downloads them as files;
- examples on the main request bodies (`EXAMPLES`, by schema name).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

# Areas, bottom up, with the tag that names them in the reference and its description. An area
# not listed (a new one) gets its own name as tag until it is described here.
AREA_TAGS: dict[str, tuple[str, str]] = {
    "accounts": (
        "accounts",
        "Sign-up, profile, password, API tokens, two-factor authentication, service e-mails, "
        "account closure.",
    ),
    "catalogue": ("catalogue", "Offers, options, numbers free to order, prices and taxes."),
    "payments": ("payments", "Payment methods and the payment provider's notifications."),
    "invoices": ("invoices", "Invoices and their PDF."),
    "validation": ("validation", "The VoIP validation procedure, and its review by staff."),
    "orders": ("orders", "Purchase orders, their payment and follow-up."),
    "subscriptions": (
        "services",
        "Billing groups, SIP lines, alias numbers, fax lines, pending changes, end of service.",
    ),
    "telephony": ("telephony", "Telephony settings of lines and numbers."),
    "switch": ("switch", "What the switch (Kamailio) did against addresses: security events."),
    "consumption": (
        "consumption",
        "Call records and their rating, lines' calls of a month, monthly statements, the "
        "spending cap.",
    ),
    "billing": ("billing", "Renewals and collections."),
    "webhooks": (
        "webhooks",
        "Endpoints of the operator's systems that receive signed events, and their deliveries.",
    ),
}

# Route function name -> operation id, where the function's name does not read as a verb.
OPERATION_IDS: dict[str, str] = {
    "invoice_pdf": "download_invoice_pdf",
    "credit_note_pdf": "download_credit_note_pdf",
    "current_terms": "get_current_terms",
    "download_procedure_pdf": "download_procedure_pdf",
    "staff_prices": "list_prices",
    "staff_set_price": "set_price",
    "staff_update_offer": "update_offer",
    "staff_add_promotion": "add_promotion",
    "staff_add_numbers": "add_numbers",
    "sandbox_webhook": "receive_sandbox_notification",
    "sandbox_confirm": "confirm_sandbox_payment",
    "staff_get_procedure": "get_staff_procedure",
    "staff_orders": "list_staff_orders",
    "staff_order": "get_staff_order",
    "staff_record_transfer": "record_bank_transfer",
    "patch_group": "update_group",
    "available_offers": "list_available_offers",
    "get_calls": "get_simultaneous_calls",
    "set_calls": "set_simultaneous_calls",
    "get_alias": "get_number",
    "billing_contact_requests": "list_billing_contact_requests",
    "answer_billing_contact_request": "answer_billing_contact_request",
    "my_services": "list_services",
    "patch_service": "update_service",
    "ask_delete_now": "request_deletion_now",
    "confirm_delete_now": "confirm_deletion_now",
    "hardware_received": "mark_hardware_received",
    "staff_spending_cap_policies": "list_spending_cap_policies",
    "staff_set_spending_cap_policy": "set_spending_cap_policy",
}

# The verbs an operation id may start with (a test holds every operation to it).
VERBS = frozenset(
    {
        "add", "answer", "approve", "cancel", "change", "close", "confirm", "convert",
        "create", "delete", "disable", "download", "enable", "get", "list", "make", "mark",
        "pay", "receive", "record", "register", "reject", "remove", "request", "reset",
        "revoke", "send", "set", "sign", "start", "terminate", "test", "update", "upload",
        "order", "move", "replace", "listen", "rotate",
    }
)  # fmt: skip

# Singular prefixes for schema names that two areas both use (`TaxOut` -> `InvoiceTaxOut`).
_AREA_PREFIX = {
    "accounts": "Account",
    "catalogue": "Catalogue",
    "payments": "Payment",
    "invoices": "Invoice",
    "validation": "Procedure",
    "orders": "Order",
    "subscriptions": "Service",
    "billing": "Billing",
    "webhooks": "Webhook",
}

_JSON_TYPES = ("application/json", "application/problem+json")
_BINARY = {"type": "string", "format": "binary"}


def _example_card() -> dict[str, Any]:
    return {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


# Examples on the main request bodies, by schema name (a test posts each where it can).
EXAMPLES: dict[str, dict[str, Any]] = {
    "SignUpData": {
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
        "password": "correct horse battery staple 42",
    },
    "TokenCreate": {
        "login": "lea@example.com",
        "password": "correct horse battery staple 42",
        "name": "CRM integration",
    },
    "OrderIn": {
        "lines": [{"offer": "sip-decouverte", "quantity": 1}],
        "accepted_terms": {"terms_of_sale": "2026-01-01", "telephony_terms": "2026-01-01"},
    },
    "PaymentIn": {"method": "card", "card": _example_card(), "save_card": True},
    "PaymentMethodIn": {
        "type": "sepa_debit",
        "iban": "FR1420041010050500013M02606",
        "holder_name": "Rousseau Conseil SAS",
        "holder_address": "12 rue de la République, 69002 Lyon",
        "accept_mandate": True,
        "make_default": True,
    },
    "ProcedureIn": {
        "holder_name": "Rousseau Conseil SAS",
        "holder_address": "12 rue de la République, 69002 Lyon",
        "iban": "FR1420041010050500013M02606",
        "bic": "PSSTFRPPLIL",
    },
    "CallsIn": {"simultaneous_calls": 6, "accept_telephony_terms": True},
    "TerminationIn": {"reason": "move", "details": "We are moving abroad."},
    "DocumentIn": {"code": "kbis_extract", "status": "valid", "note": ""},
    "RejectIn": {"reason": "The bank details do not match the company's name."},
    "WebhookEndpointIn": {
        "url": "https://crm.example.com/voipdesk/webhooks",
        "event_types": ["order.paid", "order.delivered", "invoice.issued"],
        "description": "CRM",
    },
}


# operation id -> area, filled as FastAPI names each operation (`operation_id` below).
_AREA_OF_OPERATION: dict[str, str] = {}


def operation_id(route: APIRoute) -> str:
    """The operation id of `route` (FastAPI's `generate_unique_id_function`): a verb first (see
    `OPERATION_IDS`). Also notes the route's area, which names its tag."""
    name = OPERATION_IDS.get(route.name, route.name)
    parts = route.endpoint.__module__.split(".")
    if route.include_in_schema and len(parts) > 1 and parts[0] == "voipdesk":
        _AREA_OF_OPERATION[name] = parts[1]
    return name


def _tag_by_area(spec: dict[str, Any]) -> None:
    areas: set[str] = set()
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            area = _AREA_OF_OPERATION.get(operation["operationId"])
            if area is None:
                continue
            areas.add(area)
            operation["tags"] = [AREA_TAGS.get(area, (area, ""))[0]]
    spec["tags"] = [
        {"name": tag, "description": description}
        for area, (tag, description) in AREA_TAGS.items()
        if area in areas
    ] + [{"name": area} for area in sorted(areas - set(AREA_TAGS))]


_MODULE_PATH = re.compile(
    r"^voipdesk__(?P<area>[a-z_]+?)__(?:[A-Za-z0-9_]+__)?(?P<name>[A-Za-z0-9]+)$"
)


def _clean_name(name: str, taken: set[str]) -> str:
    found = _MODULE_PATH.match(name)
    if found is None:
        return name
    area, base = found["area"], found["name"]
    candidate = _AREA_PREFIX.get(area, area.title().replace("_", "")) + base
    while candidate in taken:
        candidate = area.title().replace("_", "") + candidate
    return candidate


def _rewrite_refs(node: Any, renames: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name in renames:
                node["$ref"] = f"#/components/schemas/{renames[name]}"
        for value in node.values():
            _rewrite_refs(value, renames)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, renames)


def _rename_schemas(spec: dict[str, Any]) -> None:
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    taken = set(schemas)
    renames: dict[str, str] = {}
    for name in list(schemas):
        clean = _clean_name(name, taken)
        if clean != name:
            renames[name] = clean
            taken.add(clean)
    if renames:
        spec["components"]["schemas"] = {
            renames.get(name, name): schema for name, schema in schemas.items()
        }
        _rewrite_refs(spec, renames)
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if renames and name in renames.values():
            schema["title"] = name


def _declare_binary(spec: dict[str, Any]) -> None:
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content")
                if not status.startswith("2") or not content:
                    continue
                binary = [kind for kind in content if kind not in _JSON_TYPES]
                if not binary:
                    continue
                for kind in binary:
                    media = content[kind]
                    if kind == "text/html":
                        media.setdefault("schema", {"type": "string"})
                    elif not media.get("schema") or media["schema"] == {"type": "string"}:
                        media["schema"] = dict(_BINARY)
                if "application/json" in content and not content["application/json"].get("schema"):
                    del content["application/json"]


def _add_examples(spec: dict[str, Any]) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    for name, example in EXAMPLES.items():
        if name in schemas:
            schemas[name]["examples"] = [example]
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            ref = (body or {}).get("schema", {}).get("$ref", "")
            name = ref.rsplit("/", 1)[-1]
            if body is not None and name in EXAMPLES:
                body.setdefault("example", EXAMPLES[name])


def clean(spec: dict[str, Any]) -> dict[str, Any]:
    """Names, binary answers and examples of a generated description (idempotent)."""
    _tag_by_area(spec)
    _rename_schemas(spec)
    _declare_binary(spec)
    _add_examples(spec)
    return spec


def install(app: FastAPI) -> None:
    """Makes `app.openapi()` return the cleaned description (generated once). The app is made
    with `generate_unique_id_function=operation_id`."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not done:
            done.append(clean(generate()))
        return done[0]

    app.openapi = openapi  # type: ignore[method-assign]
