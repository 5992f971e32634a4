"""Domain errors: a stable code, an HTTP status, and a message translated for the caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from voipdesk.core.i18n import gettext


def label_of(language: str, table: Mapping[str, str], value: Any) -> str:
    """A state or kind code as people read it (its translated label); a list of codes becomes
    a comma-separated list of labels. A code missing from the table stays as it is."""
    if isinstance(value, list | tuple):
        return ", ".join(label_of(language, table, item) for item in value)
    return gettext(language, table[value]) if value in table else str(value)


SHOWN_VALUE_MAX = 80


def _shortened(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SHOWN_VALUE_MAX:
        return value[: SHOWN_VALUE_MAX - 1] + "…"
    return value


class DomainError(Exception):
    """A refusal that names its rule. `code` is stable; `message` is an English msgid."""

    code: str = "error"
    status: int = 400
    message: str = "The request was refused."
    # value name -> {code: English label msgid}: codes shown inside the sentence by their label,
    # never raw ("une commande à l'état « Livrée »", not "... delivered").
    labels: ClassVar[Mapping[str, Mapping[str, str]]] = {}

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, str] | None = None,
        status: int | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        if message is not None:
            self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.values = values
        # field name -> English msgid explaining the rule that field breaks
        self.fields = fields or {}
        self.extra = extra or {}
        super().__init__(self.message % self._values("en") if values else self.message)

    def _values(self, language: str) -> dict[str, Any]:
        # A value shown in a sentence is cut short: an answer never echoes a huge input.
        values = {name: _shortened(value) for name, value in self.values.items()}
        for name, table in self.labels.items():
            if name in values:
                values[name] = label_of(language, table, values[name])
        return values

    def detail(self, language: str) -> str:
        return gettext(language, self.message, **self._values(language))

    def field_errors(self, language: str) -> list[dict[str, str]]:
        return [
            {"field": name, "message": gettext(language, rule)}
            for name, rule in self.fields.items()
        ]


class NotFound(DomainError):
    code = "not-found"
    status = 404
    message = "Nothing was found at this address."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    message = "You are not allowed to do this."


class NotAuthenticated(DomainError):
    code = "not-authenticated"
    status = 401
    message = "Please log in first."


class InvalidInput(DomainError):
    code = "invalid-input"
    status = 422
    message = "Some fields are not valid."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = "This conflicts with the current state."
