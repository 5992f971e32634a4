"""Fixtures of the payments tests: the orders fixtures (a seeded catalogue, validated customers),
since a payment pays an order."""

from __future__ import annotations

from tests.orders.conftest import customer, customer_factory, seeded

__all__ = ["customer", "customer_factory", "seeded"]
