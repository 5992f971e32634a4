"""Refusals of the switch area, each with a stable code naming its rule."""

from __future__ import annotations

from voipdesk.core.errors import DomainError


class NotTheSwitch(DomainError):
    code = "not-the-switch"
    status = 401
    message = "Only the switch may call this (its token is missing or wrong)."
