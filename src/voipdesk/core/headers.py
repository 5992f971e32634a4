"""Security headers on every answer (an ASGI middleware in front of the application):

- `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` everywhere;
- on pages (HTML), a Content-Security-Policy: scripts only from this site (the templates have no
  inline script; htmx is a static file), no plugins, no framing by other sites, forms posting
  here only. Inline styles stay allowed: the service e-mails shown in their sandboxed frame and
  the printable purchase order carry their own. `/api/docs` keeps the policy of its own page
  (the documentation UI is served by its own route);
- `Strict-Transport-Security` when the request came over https;
- no `server` header naming the software (uvicorn's own is turned off in `cli.SERVER_SETTINGS`).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
OWN_POLICY_PATHS = ("/api/docs",)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        own_policy = scope["path"].startswith(OWN_POLICY_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "server" in headers:
                    del headers["server"]
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if headers.get("content-type", "").startswith("text/html") and not own_policy:
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)
