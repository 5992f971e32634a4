"""What other areas (and the switch) read from telephony: plain functions and dataclasses."""

from __future__ import annotations
