"""Fixtures of the orders tests: a seeded catalogue, customers, helpers to run the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.accounts.factories import make_account as real_make_account
from voipdesk.accounts.models import Account
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.platform import Platform


def make_account(platform: Platform, **overrides: Any) -> Account:
    """A customer signed up through the accounts area (English pages unless told otherwise)."""
    overrides.setdefault("language", "en")
    return real_make_account(platform, **overrides)


def mark_validated(platform: Platform, account: Account) -> None:
    """Records the customer as validated for VoIP, when the validation area exists, so that paid
    orders go straight to delivery (the validation area's own tests cover the other path)."""
    try:
        from voipdesk.validation.actions import mark_validated as validate
    except ImportError:
        return
    with platform.transaction() as session:
        validate(session, platform, account.id)


@pytest.fixture
def seeded(platform: Platform) -> Platform:
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    return platform


@pytest.fixture
def customer_factory(seeded: Platform) -> Callable[..., Account]:
    def build(validated: bool = True, **overrides: Any) -> Account:
        account = make_account(seeded, **overrides)
        if validated:
            mark_validated(seeded, account)
        return account

    return build


@pytest.fixture
def customer(customer_factory: Callable[..., Account]) -> Account:
    return customer_factory(language="en")
