"""Field errors of FastAPI/pydantic in the caller's language, translated by their stable `type`.

pydantic writes its messages in English ("Input should be a valid integer"). Matching that text
would break with every pydantic release, so each error is translated from its `type` (stable, and
kept in the answer) and its `ctx` values (`min_length`, `ge`, `expected`...). The English answer
keeps pydantic's own message; any other language gets the translated sentence, or, for a type
not listed here, a generic sentence in that language — never English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voipdesk.core.i18n import N_, gettext

INVALID_VALUE = N_("This value is not valid.")

# type -> English message id (its %(name)s are ctx values).
MESSAGES: dict[str, str] = {
    # presence and shape
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not expected here."),
    "json_invalid": N_("The body is not valid JSON."),
    "json_type": N_("The body should be JSON text."),
    "model_type": N_("This should be an object."),
    "model_attributes_type": N_("This should be an object."),
    "dict_type": N_("This should be an object."),
    "list_type": N_("This should be a list."),
    "tuple_type": N_("This should be a list."),
    "set_type": N_("This should be a list."),
    "none_required": N_("This field should be empty."),
    "union_tag_invalid": N_("This kind is not one of those allowed."),
    "union_tag_not_found": N_("The field that says which kind this is is missing."),
    # numbers
    "int_parsing": N_("This should be a whole number."),
    "int_type": N_("This should be a whole number."),
    "int_from_float": N_("This should be a whole number, without decimals."),
    "int_parsing_size": N_("This number is too large."),
    "float_parsing": N_("This should be a number."),
    "float_type": N_("This should be a number."),
    "finite_number": N_("This should be a finite number."),
    "decimal_parsing": N_("This should be a decimal number."),
    "decimal_type": N_("This should be a decimal number."),
    "decimal_max_digits": N_("This number should have at most %(max_digits)s digits."),
    "decimal_max_places": N_("This number should have at most %(decimal_places)s decimals."),
    "decimal_whole_digits": N_(
        "This number should have at most %(whole_digits)s digits before the decimal point."
    ),
    "greater_than": N_("This should be greater than %(gt)s."),
    "greater_than_equal": N_("This should be at least %(ge)s."),
    "less_than": N_("This should be less than %(lt)s."),
    "less_than_equal": N_("This should be at most %(le)s."),
    "multiple_of": N_("This should be a multiple of %(multiple_of)s."),
    # booleans and text
    "bool_parsing": N_("This should be true or false."),
    "bool_type": N_("This should be true or false."),
    "string_type": N_("This should be text."),
    "string_unicode": N_("This text is not valid Unicode."),
    "string_too_short": N_("This should have at least %(min_length)s characters."),
    "string_too_long": N_("This should have at most %(max_length)s characters."),
    "string_pattern_mismatch": N_("This is not in the expected format."),
    "bytes_type": N_("This should be a file or bytes."),
    "bytes_too_short": N_("This should have at least %(min_length)s bytes."),
    "bytes_too_long": N_("This should have at most %(max_length)s bytes."),
    # collections
    "too_short": N_("This should have at least %(min_length)s items."),
    "too_long": N_("This should have at most %(max_length)s items."),
    # choices
    "enum": N_("This should be one of: %(expected)s."),
    "literal_error": N_("This should be one of: %(expected)s."),
    # identifiers and addresses
    "url_parsing": N_("This is not a valid web address."),
    "url_type": N_("This is not a valid web address."),
    "url_syntax_violation": N_("This is not a valid web address."),
    "url_too_long": N_("This web address should have at most %(max_length)s characters."),
    "url_scheme": N_("This web address should start with %(expected_schemes)s."),
    "uuid_parsing": N_("This is not a valid identifier (UUID)."),
    "uuid_type": N_("This is not a valid identifier (UUID)."),
    "uuid_version": N_("This identifier should be a version %(expected_version)s UUID."),
    "email": N_("This is not a valid e-mail address."),
    # dates and times
    "date_parsing": N_("This is not a valid date (YYYY-MM-DD)."),
    "date_type": N_("This is not a valid date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("This is not a valid date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": N_("This should be a date without a time of day."),
    "date_past": N_("This date should be in the past."),
    "date_future": N_("This date should be in the future."),
    "datetime_parsing": N_("This is not a valid date and time (ISO 8601)."),
    "datetime_type": N_("This is not a valid date and time (ISO 8601)."),
    "datetime_from_date_parsing": N_("This is not a valid date and time (ISO 8601)."),
    "datetime_object_invalid": N_("This is not a valid date and time (ISO 8601)."),
    "datetime_past": N_("This instant should be in the past."),
    "datetime_future": N_("This instant should be in the future."),
    "timezone_aware": N_("This instant should include its time zone (like Z or +01:00)."),
    "timezone_naive": N_("This instant should not include a time zone."),
    "time_parsing": N_("This is not a valid time of day (HH:MM)."),
    "time_type": N_("This is not a valid time of day (HH:MM)."),
    "time_delta_parsing": N_("This is not a valid duration."),
    "time_delta_type": N_("This is not a valid duration."),
    # our own validators
    "value_error": INVALID_VALUE,
    "assertion_error": INVALID_VALUE,
}

# Words that pydantic puts inside ctx values (its "a, b or c" lists of choices).
_CONNECTIVES = {"fr": (" or ", " ou ")}


def _ctx_values(ctx: Mapping[str, Any], language: str) -> dict[str, str]:
    values = {}
    for key, value in ctx.items():
        if isinstance(value, BaseException):
            continue
        text = str(value)
        if key in ("expected", "expected_schemes") and language in _CONNECTIVES:
            english, local = _CONNECTIVES[language]
            text = text.replace(english, local)
        values[key] = text
    return values


def error_type(item: Mapping[str, Any]) -> str:
    """The pydantic type, with e-mail addresses told apart from other `value_error`s
    (pydantic's e-mail check reports a `value_error` whose ctx has a `reason`)."""
    kind = str(item.get("type", "value_error"))
    if kind == "value_error" and "reason" in (item.get("ctx") or {}):
        return "email"
    return kind


def field_message(item: Mapping[str, Any], language: str) -> str:
    """The message of one pydantic error item for a caller speaking `language`."""
    if language == "en":
        return str(item.get("msg") or gettext(language, INVALID_VALUE))
    kind = error_type(item)
    ctx = item.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        # Our validators raise ValueError(<an English message id>): its translation if it has one.
        raised = ctx.get("error")
        if raised is not None:
            text = str(raised)
            translated = gettext(language, text)
            if translated != text:
                return translated
        return gettext(language, INVALID_VALUE)
    message = MESSAGES.get(kind)
    if message is None or ("%(" in message and not ctx):
        return gettext(language, INVALID_VALUE)
    try:
        return gettext(language, message, **_ctx_values(ctx, language))
    except (KeyError, TypeError, ValueError):
        # A ctx value missing from this pydantic version: the sentence without it.
        return gettext(language, INVALID_VALUE)


def field_errors(errors: list[Mapping[str, Any]], language: str) -> list[dict[str, str]]:
    """`{"field", "type", "message"}` per error; `field` is the dotted location without the
    leading body/query/path/header part (`lines.0.quantity`), `body` for the whole body."""
    fields = []
    for item in errors:
        location = [
            str(part)
            for part in item.get("loc", ())
            if part not in ("body", "query", "path", "header", "cookie")
        ]
        fields.append(
            {
                "field": ".".join(location) or "body",
                "type": error_type(item),
                "message": field_message(item, language),
            }
        )
    return fields
