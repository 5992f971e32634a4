"""Two `voipdesk serve` and two `voipdesk worker` processes on one PostgreSQL under load:
every outbox message written is delivered exactly once (counted at a real SMTP peer).

In one run it creates a throw-away PostgreSQL database, migrates it (`voipdesk db upgrade`), starts
an SMTP peer (aiosmtpd, in this process) that records the Message-ID of every e-mail it receives,
then starts, as child processes with the project's CLI, two `voipdesk serve` (each with its
in-process outbox worker) and two `voipdesk worker`, all on that database and that SMTP peer.
`wrk` then signs customers up on both serve processes at once (one wrk per process; every request
a new address, each must answer 201; a sign-up writes a welcome e-mail to the outbox). When the
load stops, it waits for the outbox to drain and counts: accounts created, e-mails written to the
outbox, delivered, failed, Message-IDs received, received twice, missing.

    uv run python bench/reliability.py --runs 3 --duration 20

`wrk` comes from Debian/Ubuntu: `apt-get install -y wrk`. The figures only mean something on a
quiet machine: the load generator shares its cores with the four processes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import (
    Server,
    Target,
    create_postgresql,
    drop_postgresql,
    free_port,
    load,
    start,
)

# Every request a new address: the thread's id and a counter make it unique across wrk threads
# and the two wrk processes (BENCH_PREFIX differs).
SIGNUP_SCRIPT = r"""
local threads = {}
local counter = 0
local prefix = os.getenv("BENCH_PREFIX")
local expected = tonumber(os.getenv("BENCH_STATUS"))
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
function init(args) unexpected = 0; statuses = "" end
function request()
  counter = counter + 1
  local body = '{"first_name": "Load", "last_name": "Test", "address_line1": "1 rue de la Paix",' ..
    '"postal_code": "75002", "city": "Paris", "password": "Bench-Password-2026!",' ..
    '"email": "' .. prefix .. "-" .. tid .. "-" .. counter .. '@bench.voipdesk.example"}'
  return wrk.format("POST", "/api/v1/accounts", {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status ~= expected then
    if unexpected == 0 then io.write("UNEXPECTED " .. status .. " " .. body:sub(1, 300) .. "\n") end
    unexpected = unexpected + 1
    if #statuses < 40 then statuses = statuses .. status .. " " end
  end
end
function done(summary, latency, requests)
  local bad, seen = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("unexpected")
    seen = seen .. t:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"unexpected": %d, "socket_errors": %d, "statuses": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout, seen))
end
"""


class MessageIds:
    """The SMTP peer's handler: counts each Message-ID received."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        from email import message_from_bytes

        message_id = message_from_bytes(envelope.content).get("Message-ID", "")
        with self.lock:
            self.seen[message_id] += 1
        return "250 OK"


@dataclass
class Result:
    rps: float
    requests: int
    errors: int
    accounts: int
    written: int
    delivered: int
    failed: int
    received: int
    twice: int
    missing: int
    drain_s: float


def outbox_counts(url: str) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        row = connection.execute(
            "SELECT count(*), count(delivered_at), count(failed_at) FROM outbox_message"
            " WHERE topic LIKE '%%mail%%'"
        ).fetchone()
        return row[0], row[1], row[2]


def accounts_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT count(*) FROM account WHERE email LIKE '%%@bench.voipdesk.example'"
        ).fetchone()[0]


def one_run(args: argparse.Namespace, workdir: Path, run: int) -> Result:
    from aiosmtpd.controller import Controller

    voipdesk = str(Path(sys.executable).parent / "voipdesk")
    pg_name, url = create_postgresql(args.server_url)
    ids = MessageIds()
    smtp = Controller(ids, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        "VOIPDESK_DATABASE_URL": url,
        "VOIPDESK_SECRET_KEY": "bench-reliability-" + os.urandom(24).hex(),
        "VOIPDESK_SMTP_HOST": "127.0.0.1",
        "VOIPDESK_SMTP_PORT": str(smtp.port),
    }
    processes: list[subprocess.Popen[bytes]] = []
    servers: list[Server] = []
    try:
        subprocess.run(
            [voipdesk, "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True
        )
        servers = [start(f"serve-{run}-{i}", [voipdesk, "serve"], workdir, env) for i in range(2)]
        for i in range(2):
            log = (workdir / f"worker-{run}-{i}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [voipdesk, "worker"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                    env={**os.environ, **env},
                )
            )
        for server in servers:
            server.wait_ready("/api/v1/me")
        script = workdir / "signup.lua"
        script.write_text(SIGNUP_SCRIPT)
        samples = []
        threads = []

        def drive(index: int, server: Server) -> None:
            os.environ["BENCH_PREFIX"] = f"r{run}s{index}"
            target = Target("sign-up", server.base + "/api/v1/accounts", "POST", 201)
            try:
                samples.append(load(args.wrk, script, target, args.connections, 1, args.duration))
            except subprocess.CalledProcessError as error:
                print(f"wrk failed: {error.stderr}", flush=True)
                raise

        for index, server in enumerate(servers):
            thread = threading.Thread(target=drive, args=(index, server))
            thread.start()
            time.sleep(0.05)  # os.environ is read by wrk at start: one prefix each
            threads.append(thread)
        for thread in threads:
            thread.join()
        stopped = time.monotonic()
        deadline = stopped + args.drain_timeout
        while True:
            written, delivered, failed = outbox_counts(url)
            if delivered + failed >= written or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        drain_s = time.monotonic() - stopped
        time.sleep(1)  # anything delivered twice would arrive now
        written, delivered, failed = outbox_counts(url)
        received = sum(1 for key in ids.seen if key)
        return Result(
            rps=sum(s.rps for s in samples),
            requests=sum(round(s.rps * args.duration) for s in samples),
            errors=sum(s.errors for s in samples),
            accounts=accounts_count(url),
            written=written,
            delivered=delivered,
            failed=failed,
            received=received,
            twice=sum(1 for n in ids.seen.values() if n > 1),
            missing=max(0, delivered - received),
            drain_s=drain_s,
        )
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:  # a worker inside a long job: not waited for
                process.kill()
                process.wait()
        for server in servers:
            server.stop()
        smtp.stop()
        drop_postgresql(args.server_url, pg_name)


def spread(values: list[float], digits: int = 0) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=8, help="per serve process")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    args = parser.parse_args()
    if not Path(args.wrk).exists():
        raise SystemExit("wrk is missing: apt-get install -y wrk (Debian/Ubuntu), or build wg/wrk")
    workdir = Path(tempfile.mkdtemp(prefix="voipdesk-bench-reliability-"))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()[0]
    results = []
    for run in range(args.runs):
        result = one_run(args, workdir, run)
        results.append(result)
        print(f"run {run + 1}/{args.runs}: {result}", flush=True)
    print()
    print(
        f"{started}, {args.runs} run(s) of {args.duration} s, 2 serve + 2 worker processes, "
        f"{args.connections} connections per serve, {os.cpu_count()} CPU(s), load average "
        f"{load_before:.1f} before; median (min-max)"
    )
    print(f"sign-ups/s (both serve): {spread([r.rps for r in results], 1)}")
    print(f"errors: {sum(r.errors for r in results)}")
    print(f"accounts: {spread([r.accounts for r in results])}")
    print(f"e-mails written: {spread([r.written for r in results])}")
    print(
        f"delivered: {spread([r.delivered for r in results])}, failed: "
        f"{sum(r.failed for r in results)}"
    )
    print(
        f"Message-IDs received: {spread([r.received for r in results])}, twice: "
        f"{sum(r.twice for r in results)}, missing: {sum(r.missing for r in results)}"
    )
    print(f"drain after load (s): {spread([r.drain_s for r in results], 1)}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
