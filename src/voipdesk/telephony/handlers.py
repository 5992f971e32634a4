"""Outbox handlers, event consumers and registry hooks of the telephony area (all idempotent)."""

from __future__ import annotations
