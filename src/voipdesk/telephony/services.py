"""What other areas ask the telephony area to do: plain functions, no ORM objects crossing."""

from __future__ import annotations
