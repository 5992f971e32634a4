"""Benchmark of webhook deliveries: N domain events to E endpoints on a local HTTP receiver.

Publishes N `orders.paid` events in one transaction, then times the outbox worker (one
process, `drain`) doing everything a worker does for them: the fan-out, the webhooks area
forwarding each event (one message, one delivery per endpoint), and each signed POST with its
answer recorded. The receiver (a threaded http.server on loopback) answers 204 at once, so the
number is voipdesk's cost per delivery, not a receiver's.

    uv run python bench/webhooks.py --database sqlite --events 2000 --endpoints 2
    uv run python bench/webhooks.py --database postgresql --events 2000 --endpoints 2

PostgreSQL: a throw-away database on the server of --server-url, dropped at the end.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import create_engine, text

from voipdesk.areas import load_handlers
from voipdesk.core.db import make_engine, normalise_url
from voipdesk.core.events import publish
from voipdesk.core.migrate import upgrade
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings
from voipdesk.webhooks import actions


class _Receiver(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        _Receiver.received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def run(url: str, events: int, endpoints: int) -> dict[str, float]:
    load_handlers()
    settings = Settings(_env_file=None, database_url=url, secret_key="bench-" + "x" * 26)  # type: ignore[call-arg]
    platform = Platform(settings=settings, engine=make_engine(url))
    upgrade(platform.engine)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with platform.transaction() as session:
        for _ in range(endpoints):
            actions.register_endpoint(
                session, platform, "bench", actions.EndpointForm(target, ["order.paid"])
            )
    with platform.transaction() as session:
        for number in range(events):
            payload = {"order_id": uuid.uuid4().hex, "account_id": "bench", "number": str(number)}
            publish(session, "orders.paid", payload, now=platform.now())
    started = time.perf_counter()
    handled = drain(platform)
    seconds = time.perf_counter() - started
    server.shutdown()
    platform.engine.dispose()
    deliveries = events * endpoints
    assert _Receiver.received == deliveries, (_Receiver.received, deliveries)
    return {
        "events": events,
        "deliveries": deliveries,
        "outbox_messages": handled,
        "seconds": round(seconds, 2),
        "deliveries_per_second": round(deliveries / seconds, 1),
        "ms_per_delivery": round(1000 * seconds / deliveries, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=2)
    options = parser.parse_args()
    if options.database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            print(options.database, run(url, options.events, options.endpoints))
        return
    name = f"voipdesk_bench_{uuid.uuid4().hex[:8]}"
    server = create_engine(normalise_url(options.server_url), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = options.server_url.rsplit("/", 1)[0] + f"/{name}"
        print(options.database, run(url, options.events, options.endpoints))
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


if __name__ == "__main__":
    main()
