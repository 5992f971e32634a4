"""Page dependencies: who is logged in.

`require_account` sends a visitor to the login page (and back afterwards), and a browser halfway
through a 2FA login to its second step; `require_staff` answers a 403 page to customers.
"""

from __future__ import annotations

from fastapi import Request

from voipdesk.accounts.models import Account
from voipdesk.core.errors import Forbidden
from voipdesk.web.rendering import LoginRequired, login_url
from voipdesk.web.sessions import load_session


def optional_account(request: Request) -> Account | None:
    current = load_session(request)
    if current is None or current.pending_second_factor:
        return None
    return current.account


def require_account(request: Request) -> Account:
    current = load_session(request)
    if current is None:
        raise LoginRequired(login_url(request))
    if current.pending_second_factor:
        raise LoginRequired("/login/2fa")
    return current.account


def require_staff(request: Request) -> Account:
    account = require_account(request)
    if not account.is_staff:
        raise Forbidden()
    return account
