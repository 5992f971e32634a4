"""Housekeeping: old login attempts, spent reset links and ended sessions are purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.accounts.factories import make_account
from voipdesk.accounts import actions
from voipdesk.accounts.handlers import purge_expired
from voipdesk.accounts.models import LoginAttempt, PasswordReset
from voipdesk.core.errors import DomainError


def _count(platform, model) -> int:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_old_login_attempts_and_reset_links_are_purged(platform, clock):
    account = make_account(platform)
    with pytest.raises(DomainError):
        actions.check_credentials(
            platform, account.handle, "Wrong-Password-1", ip="192.0.2.1", user_agent=None
        )
    actions.request_password_reset(platform, account.email)
    purge_expired(platform)
    assert _count(platform, LoginAttempt) == 1 and _count(platform, PasswordReset) == 1
    clock.advance(timedelta(days=8))
    purge_expired(platform)
    assert _count(platform, LoginAttempt) == 0 and _count(platform, PasswordReset) == 0


def test_reset_requests_are_limited_per_hour_without_saying_so(platform, clock):
    account = make_account(platform)
    for _ in range(actions.RESET_REQUESTS_PER_PERIOD + 3):
        actions.request_password_reset(platform, account.handle)
    assert _count(platform, PasswordReset) == actions.RESET_REQUESTS_PER_PERIOD
    clock.advance(timedelta(hours=1, seconds=1))
    actions.request_password_reset(platform, account.handle)
    assert _count(platform, PasswordReset) == actions.RESET_REQUESTS_PER_PERIOD + 1
