"""voipdesk's own test receiver: an endpoint whose address is
`<base URL>/api/v1/webhooks/test-receiver/<endpoint id>` gets its messages checked as a receiver
would (signature with the endpoint's secret, timestamp within 5 minutes) and answered 200 with
what was verified, or 401 with why not, so that staff see signing work end to end in the
deliveries' answers before pointing the endpoint at their own system (the demo does so).

It answers only for an endpoint registered with this very address (404 otherwise), and writes
nothing. Its address is on this machine: the demo allows private addresses
(`webhooks_allow_private_addresses`), which a shared server must not."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from voipdesk.core.errors import NotFound
from voipdesk.core.http import get_platform
from voipdesk.core.platform import Platform
from voipdesk.webhooks import rules
from voipdesk.webhooks.models import WebhookEndpoint

PATH = "/webhooks/test-receiver/{endpoint_id}"

router = APIRouter(include_in_schema=False)


def test_receiver_url(base_url: str, endpoint_id: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1" + PATH.format(endpoint_id=endpoint_id)


@router.post(PATH)
async def test_receiver(
    endpoint_id: str, request: Request, platform: Platform = Depends(get_platform)
) -> JSONResponse:
    body = (await request.body()).decode("utf-8", errors="replace")
    with platform.session() as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        secret = endpoint.secret if endpoint is not None else None
        url = endpoint.url if endpoint is not None else ""
    if secret is None or not url.rstrip("/").endswith(PATH.format(endpoint_id=endpoint_id)):
        raise NotFound()
    headers = {name.lower(): value for name, value in request.headers.items()}
    problem = rules.verify(secret, headers, body, int(platform.now().timestamp()))
    answer: dict[str, Any] = {"verified": problem is None, "webhook_id": headers.get("webhook-id")}
    if problem is not None:
        return JSONResponse(answer | {"problem": problem}, status_code=401)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    answer["type"] = parsed.get("type") if isinstance(parsed, dict) else None
    return JSONResponse(answer)
