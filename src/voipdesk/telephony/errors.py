"""Refusals of the telephony area, each with a stable code naming its rule."""

from __future__ import annotations
