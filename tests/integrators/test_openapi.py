"""The OpenAPI description is one integrators can generate a client from and read: unique
meaningful schema names, verb operation ids, one tag per area, binary downloads declared,
examples on the main bodies that the API really accepts."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from tests.integrators.conftest import Generated
from voipdesk.core.openapi import EXAMPLES, VERBS


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    ]


def test_schema_names_are_unique_and_carry_no_module_path(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    module_paths = [name for name in schemas if "__" in name or "." in name]
    assert module_paths == []
    # generators name classes by title: two schemas titled alike would be two classes of one name
    titles = [schema.get("title", name) for name, schema in schemas.items()]
    assert sorted({t for t in titles if titles.count(t) > 1}) == []
    assert "CatalogueTaxOut" in schemas
    assert "InvoiceTaxOut" in schemas
    refs = re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", str(spec))
    assert sorted(set(refs) - set(schemas)) == []  # every reference resolves


def test_operation_ids_are_unique_verbs(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _method, _path, operation in _operations(spec)]
    assert len(ids) == len(set(ids))
    not_verbs = [i for i in ids if i.split("_")[0] not in VERBS]
    assert not_verbs == []
    for expected in ("list_lines", "pay_order", "sign_up", "download_invoice_pdf", "create_order"):
        assert expected in ids


def test_each_operation_has_the_tag_of_its_area(spec: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in spec["tags"]}
    for method, path, operation in _operations(spec):
        assert len(operation["tags"]) == 1, (method, path)
        assert operation["tags"][0] in declared
    tag_of = {
        operation["operationId"]: operation["tags"][0] for _m, _p, operation in _operations(spec)
    }
    assert tag_of["list_lines"] == "services"
    assert tag_of["pay_order"] == "orders"
    assert tag_of["download_invoice_pdf"] == "invoices"
    assert tag_of["list_payment_methods"] == "payments"
    assert all(tag.get("description") for tag in spec["tags"])


def test_downloads_are_declared_as_binary(spec: dict[str, Any]) -> None:
    invoice_pdf = spec["paths"]["/api/v1/me/invoices/{invoice_id}/pdf"]["get"]["responses"]["200"]
    assert invoice_pdf["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
    }
    procedure = spec["paths"]["/api/v1/telephony/procedure/{procedure_id}/pdf"]["get"]
    assert procedure["responses"]["200"]["content"]["application/pdf"]["schema"] == {
        "type": "string",
        "format": "binary",
    }
    for _method, _path, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            for kind, media in answer.get("content", {}).items():
                if status.startswith("2") and kind not in (
                    "application/json",
                    "application/problem+json",
                    "text/html",
                ):
                    assert media["schema"] == {"type": "string", "format": "binary"}, kind


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    waiting: list[type[BaseModel]] = [BaseModel]
    while waiting:
        model = waiting.pop()
        for sub in model.__subclasses__():
            if sub.__module__.startswith("voipdesk."):
                found.setdefault(sub.__name__, sub)
            waiting.append(sub)
    return found


def test_main_request_bodies_have_examples_the_models_accept(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    models = _models()
    for name in ("SignUpData", "TokenCreate", "OrderIn", "PaymentIn", "PaymentMethodIn"):
        assert schemas[name]["examples"] == [EXAMPLES[name]]
    for name, example in EXAMPLES.items():
        if name in schemas:
            models[name].model_validate(example)  # raises if the example is not a valid body
    create_order = spec["paths"]["/api/v1/orders"]["post"]["requestBody"]
    assert create_order["content"]["application/json"]["example"] == EXAMPLES["OrderIn"]


def test_the_client_generator_reports_nothing(generated: Generated, spec: dict[str, Any]) -> None:
    """`openapi-python-client generate` keeps every operation: no warning, no skipped schema."""
    assert generated.returncode == 0, generated.output
    assert generated.output.strip().splitlines() == [
        f"Generating {generated.folder / 'voipdesk_client'}"
    ]
    api = generated.folder / "voipdesk_client" / "api"
    modules = {path.stem for path in api.rglob("*.py")} - {"__init__"}
    assert {"get_catalogue", "get_simultaneous_calls", "set_simultaneous_calls"} <= modules
    assert {"download_invoice_pdf", "download_procedure_pdf", "list_lines"} <= modules
    assert sorted(p.name for p in api.iterdir() if p.is_dir()) == sorted(
        {tag["name"] for tag in spec["tags"]}
    )
