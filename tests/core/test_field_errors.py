"""Field errors of pydantic in the caller's language, by their stable type and ctx values."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

import pytest
from pydantic import AnyUrl, BaseModel, ConfigDict, EmailStr, Field, ValidationError

from voipdesk.core.field_errors import INVALID_VALUE, MESSAGES, field_errors
from voipdesk.core.i18n import translations


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Line(BaseModel):
    quantity: int = Field(ge=1, le=30)


class Everything(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=8, max_length=10)
    quantity: int = 1
    ratio: float = 1.0
    price: Decimal = Field(Decimal("1"), max_digits=5, decimal_places=2)
    flag: bool = False
    above: int = Field(5, gt=0)
    below: int = Field(5, lt=10)
    tags: list[str] = Field(default_factory=list, min_length=0, max_length=2)
    colour: Colour = Colour.RED
    language: Literal["fr", "en"] = "fr"
    site: AnyUrl | None = None
    ref: uuid.UUID | None = None
    day: date | None = None
    at: datetime | None = None
    email: EmailStr | None = None
    lines: list[Line] = Field(default_factory=list)


def errors_of(**values: Any) -> list[dict[str, Any]]:
    base: dict[str, Any] = {"name": "abcdefgh"}
    base.update(values)
    with pytest.raises(ValidationError) as caught:
        Everything(**base)
    return [dict(item) for item in caught.value.errors()]


def french(**values: Any) -> dict[str, dict[str, str]]:
    return {item["field"]: item for item in field_errors(errors_of(**values), "fr")}


@pytest.mark.parametrize(
    ("values", "field", "kind", "message"),
    [
        ({"name": None}, "name", "string_type", "Ceci doit être du texte."),
        (
            {"name": "short"},
            "name",
            "string_too_short",
            "Ceci doit comporter au moins 8 caractères.",
        ),
        (
            {"name": "far too long"},
            "name",
            "string_too_long",
            "Ceci doit comporter au plus 10 caractères.",
        ),
        ({"quantity": "many"}, "quantity", "int_parsing", "Ceci doit être un nombre entier."),
        (
            {"quantity": 1.5},
            "quantity",
            "int_from_float",
            "Ceci doit être un nombre entier, sans décimales.",
        ),
        ({"ratio": "x"}, "ratio", "float_parsing", "Ceci doit être un nombre."),
        ({"price": "abc"}, "price", "decimal_parsing", "Ceci doit être un nombre décimal."),
        (
            {"price": "1.234"},
            "price",
            "decimal_max_places",
            "Ce nombre doit avoir au plus 2 décimales.",
        ),
        (
            {"flag": "perhaps"},
            "flag",
            "bool_parsing",
            "Ceci doit être vrai ou faux (true ou false).",
        ),
        ({"above": 0}, "above", "greater_than", "Ceci doit être supérieur à 0."),
        ({"below": 10}, "below", "less_than", "Ceci doit être inférieur à 10."),
        (
            {"lines": [{"quantity": 0}]},
            "lines.0.quantity",
            "greater_than_equal",
            "Ceci doit être au moins égal à 1.",
        ),
        (
            {"lines": [{"quantity": 31}]},
            "lines.0.quantity",
            "less_than_equal",
            "Ceci doit être au plus égal à 30.",
        ),
        ({"lines": [{}]}, "lines.0.quantity", "missing", "Ce champ est obligatoire."),
        ({"tags": ["a", "b", "c"]}, "tags", "too_long", "Ceci doit comporter au plus 2 éléments."),
        ({"tags": "a"}, "tags", "list_type", "Ceci doit être une liste."),
        (
            {"colour": "green"},
            "colour",
            "enum",
            "Ceci doit valoir l'une de ces valeurs : 'red' ou 'blue'.",
        ),
        (
            {"language": "de"},
            "language",
            "literal_error",
            "Ceci doit valoir l'une de ces valeurs : 'fr' ou 'en'.",
        ),
        ({"site": "not a url"}, "site", "url_parsing", "Ce n'est pas une adresse web valide."),
        ({"ref": "nope"}, "ref", "uuid_parsing", "Ce n'est pas un identifiant valide (UUID)."),
        (
            {"day": "31/12/2026"},
            "day",
            "date_from_datetime_parsing",
            "Ce n'est pas une date valide (AAAA-MM-JJ).",
        ),
        (
            {"at": "tomorrow"},
            "at",
            "datetime_from_date_parsing",
            "Ce n'est pas une date et heure valide (ISO 8601).",
        ),
        ({"email": "not-an-email"}, "email", "email", "Cette adresse e-mail n'est pas valide."),
        ({"unknown": 1}, "unknown", "extra_forbidden", "Ce champ n'est pas attendu ici."),
    ],
)
def test_each_type_family_is_translated_with_its_values(
    values: dict[str, Any], field: str, kind: str, message: str
) -> None:
    item = french(**values)[field]
    assert item == {"field": field, "type": kind, "message": message}


def test_a_value_error_of_our_own_validators_is_translated_else_generic() -> None:
    from pydantic import field_validator

    class Form(BaseModel):
        email: str
        other: str

        @field_validator("email")
        @classmethod
        def known(cls, value: str) -> str:
            raise ValueError("This is not a valid e-mail address.")

        @field_validator("other")
        @classmethod
        def unknown(cls, value: str) -> str:
            raise ValueError("Something only English knows about.")

    with pytest.raises(ValidationError) as caught:
        Form(email="x", other="y")
    items = {item["field"]: item for item in field_errors(list(caught.value.errors()), "fr")}
    assert items["email"]["message"] == "Cette adresse e-mail n'est pas valide."
    assert items["other"] == {
        "field": "other",
        "type": "value_error",
        "message": "Cette valeur n'est pas valide.",
    }


def test_an_unknown_type_gets_a_generic_french_sentence_never_english() -> None:
    item = {"type": "some_future_type", "loc": ("body", "x"), "msg": "Brand new English text"}
    assert field_errors([item], "fr") == [
        {"field": "x", "type": "some_future_type", "message": "Cette valeur n'est pas valide."}
    ]
    # A listed type whose ctx lacks a value: the generic sentence, not a half-filled one.
    bare = {"type": "string_too_short", "loc": ("body", "x"), "msg": "String should be longer"}
    assert field_errors([bare], "fr")[0]["message"] == "Cette valeur n'est pas valide."


def test_english_callers_keep_pydantics_message_and_the_same_type() -> None:
    items = {item["field"]: item for item in field_errors(errors_of(name="short"), "en")}
    assert items["name"] == {
        "field": "name",
        "type": "string_too_short",
        "message": "String should have at least 8 characters",
    }


def test_every_covered_type_has_a_french_sentence() -> None:
    catalogue = translations("fr")
    untranslated = [
        kind for kind, message in MESSAGES.items() if catalogue.gettext(message) == message
    ]
    assert untranslated == []
    assert catalogue.gettext(INVALID_VALUE) != INVALID_VALUE


def test_no_french_field_message_is_pydantics_english() -> None:
    cases = [
        {"name": None},
        {"name": "short"},
        {"quantity": "x"},
        {"price": "x"},
        {"flag": "x"},
        {"above": 0},
        {"tags": ["a", "b", "c"]},
        {"colour": "x"},
        {"language": "x"},
        {"site": "x"},
        {"ref": "x"},
        {"day": "x"},
        {"at": "x"},
        {"email": "x"},
        {"lines": [{}]},
        {"unknown": 1},
    ]
    for values in cases:
        raw = errors_of(**values)
        english = {item["msg"] for item in raw}
        for item in field_errors(raw, "fr"):
            assert item["message"] not in english, item
            assert not any(word in item["message"] for word in ("should", "Input", "valid ")), item
