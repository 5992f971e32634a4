"""Telephony use cases: one function per thing a user, the phone or a job does, one transaction
each (the caller's), with the injected clock. Pages, API and star codes call the same ones."""

from __future__ import annotations
