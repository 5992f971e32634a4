"""Fixtures of the webhooks tests: a real HTTP receiver on a free loopback port that answers
what it is told (e.g. 500, 500, then 204), checks signatures with the `standardwebhooks` library
as an operator's system would, and dedupes on `webhook-id`; staff and customers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.accounts.factories import make_account
from voipdesk.accounts.models import Account
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.platform import Platform


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class Receiver:
    """Answers `answers` in turn, then `default`; keeps every request and the ids it handled."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    default: int = 204
    requests: list[Received] = field(default_factory=list)
    handled_ids: list[str] = field(default_factory=list)  # first time each id was accepted
    secret: str | None = None  # when set, a request with a bad signature answers 401
    # Called with each request before it is answered (what the platform's state is meanwhile);
    # what it raises is kept in `errors` and answered 500.
    during: Callable[[Received], None] | None = None
    errors: list[BaseException] = field(default_factory=list)

    def signed(self, received: Received) -> bool:
        """The signature is the one the `standardwebhooks` library computes for this id,
        timestamp and body (its `verify` also wants the timestamp within 5 minutes of the real
        time, which a test's moved clock is not)."""
        assert self.secret is not None
        headers = received.headers
        at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        expected = Webhook(self.secret).sign(headers["webhook-id"], at, received.body.decode())
        return expected in headers["webhook-signature"].split(" ")

    def next_status(self, received: Received) -> int:
        if self.secret is not None and not self.signed(received):
            return 401
        status = self.answers.pop(0) if self.answers else self.default
        webhook_id = received.headers["webhook-id"]
        if 200 <= status < 300 and webhook_id not in self.handled_ids:
            self.handled_ids.append(webhook_id)  # a repeated id is acknowledged, not re-handled
        return status


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            received = Received(
                {name.lower(): value for name, value in self.headers.items()},
                self.rfile.read(length),
            )
            state.requests.append(received)
            status = state.next_status(received)
            if state.during is not None:
                try:
                    state.during(received)
                except BaseException as error:  # kept for the test to show
                    state.errors.append(error)
                    status = 500
            answer = b'{"ok":true}' if status < 300 else b"receiver busy, try later"
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/voipdesk"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def seeded(platform: Platform) -> Platform:
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    return platform


@pytest.fixture
def staff(seeded: Platform) -> Account:
    return make_account(seeded, first_name="Sam", last_name="Operator", is_staff=True)


@pytest.fixture
def customer(seeded: Platform) -> Account:
    """A customer already validated for VoIP: a paid order goes straight to delivery."""
    from voipdesk.validation.actions import mark_validated

    account = make_account(seeded, language="en")
    with seeded.transaction() as session:
        mark_validated(session, seeded, account.id)
    return account
