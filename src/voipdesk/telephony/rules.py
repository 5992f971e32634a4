"""Telephony rules as plain Python (no I/O): what a setting may be, checked before anything is
stored."""

from __future__ import annotations
