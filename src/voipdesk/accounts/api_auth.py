"""Authentication of API calls: `Authorization: Bearer <token>` -> the account."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from voipdesk.accounts.actions import authenticate_token_async
from voipdesk.accounts.errors import InvalidToken
from voipdesk.accounts.models import Account
from voipdesk.core.errors import Forbidden, NotAuthenticated
from voipdesk.core.http import get_platform, platform_of
from voipdesk.core.limits import authenticated_account, register_bearer_authentication
from voipdesk.core.platform import Platform

# auto_error=False: a missing header becomes our own problem+json, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/tokens")


async def current_account(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    platform: Platform = Depends(get_platform),
) -> Account:
    """The account whose bearer token came with the request; 401 problem otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated()
    # Routes with a body were authenticated before their body was read (core.limits). Async:
    # the lookup is awaited on the event loop, with no hop to the thread pool (core.async_reads).
    account = authenticated_account(request) or await authenticate_token_async(
        platform, credentials.credentials
    )
    if account is None:
        raise InvalidToken()
    request.state.account = account
    return account


async def _bearer_account(request: Request) -> Account | None:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return await authenticate_token_async(platform_of(request), secret.strip())


register_bearer_authentication(_bearer_account)


async def current_staff(account: Account = Depends(current_account)) -> Account:
    """An operator staff account; 403 for customers."""
    if not account.is_staff:
        raise Forbidden()
    return account
