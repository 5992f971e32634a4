"""Benchmark of the REST API: voipdesk against a bare FastAPI endpoint on the same machine.

In one run it starts, as child processes:

- a bare FastAPI app with one `def` endpoint returning a small JSON object (the framework's ceiling
  here: a sync endpoint like voipdesk's, so it also goes through the thread pool), served by
  uvicorn with the same server settings as `voipdesk serve` (`voipdesk.cli.SERVER_SETTINGS`);
- `voipdesk serve --demo` on a fresh database (the demo loader: catalogue, and a delivered customer
  with a billing group of lines), for each database asked,

then loads each endpoint with `wrk` (16 connections, 10 seconds by default): the bare endpoint,
`GET /api/v1/me`, `GET /api/v1/telephony/{group}/lines` and `POST /api/v1/orders` (a small valid
cart; every request creates an order and must answer 201) with the delivered customer's bearer
token. Any other status, and any socket error, counts as an error. It prints requests per second,
p50 and p99 latency, errors, the ratio to the bare endpoint and the resident memory of the server
process after the load: the median of the runs, with the spread (min-max) in brackets.

    uv run python bench/api.py --database both --runs 3
    uv run python bench/api.py --database sqlite --runs 1 --duration 5
    uv run python bench/api.py --database postgresql --server-url postgresql://postgres@127.0.0.1:5432/postgres

PostgreSQL: a throw-away database is created on the server of --server-url and dropped at the end.
`wrk` comes from Debian/Ubuntu: `apt-get install -y wrk` (or https://github.com/wg/wrk). The numbers
only mean something on a quiet machine: the load generator shares its cores with the server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "lea@demo.voipdesk.example"  # the demo's delivered customer (voipdesk.demo)
PASSWORD = "Demo-Voipdesk-2026!"
# A small order that any number of requests can repeat: a SIP line would reserve a number of the
# demo's small pool each time, so the pool would run out during the load.
TERMS = {"terms_of_sale": "2026-01-01", "telephony_terms": "2026-01-01"}  # required by the API
ORDER_BODIES = [
    {"lines": [{"offer": "phone-pnp-essential", "quantity": 1}], "accepted_terms": TERMS},
    {"lines": [{"offer": "fax-line", "quantity": 1}], "accepted_terms": TERMS},
]

# One Lua script for every endpoint: method, headers and body come from the environment; each
# response whose status is not the expected one is counted; done() prints one JSON line.
WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
wrk.method = os.getenv("BENCH_METHOD")
wrk.body = os.getenv("BENCH_BODY")
if wrk.body == "" then wrk.body = nil end
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
if wrk.headers["Authorization"] == "" then wrk.headers["Authorization"] = nil end
wrk.headers["Content-Type"] = "application/json"
local expected = tonumber(os.getenv("BENCH_STATUS"))
function init(args) unexpected = 0; statuses = "" end
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


def bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/bare")
    def bare() -> dict[str, Any]:
        return {"id": "c1f0a5d2", "name": "bare", "ok": True}

    return app


def serve_bare(port: int) -> None:
    import uvicorn

    from voipdesk.cli import SERVER_SETTINGS

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, **SERVER_SETTINGS)  # type: ignore[arg-type]


# --- processes ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        """Resident memory of the server process and its children (uvicorn workers), in MB."""
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                pass
        return total / 1024

    def wait_ready(self, path: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} stopped:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.base + path, timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers (401 without a token): ready
            except OSError:
                time.sleep(0.3)
        raise SystemExit(
            f"{self.name} did not answer in {timeout}s:\n{self.log.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]


def start(name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    process = subprocess.Popen(
        [*argv, "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env={**os.environ, **(env or {})},
    )
    return Server(name, process, port, log)


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# --- load -----------------------------------------------------------------------------------------
@dataclass
class Target:
    label: str
    url: str
    method: str = "GET"
    status: int = 200
    token: str = ""
    body: str = ""


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float
    statuses: str = ""


@dataclass
class Row:
    database: str
    target: str
    samples: list[Sample] = field(default_factory=list)


def load(
    wrk: str, script: Path, target: Target, connections: int, threads: int, seconds: float
) -> Sample:
    env = {
        **os.environ,
        "BENCH_METHOD": target.method,
        "BENCH_BODY": target.body,
        "BENCH_AUTH": f"Bearer {target.token}" if target.token else "",
        "BENCH_STATUS": str(target.status),
    }
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s"]
    out = subprocess.run(
        [*argv, "-s", str(script), target.url], env=env, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    for unexpected in [line for line in out.splitlines() if line.startswith("UNEXPECTED ")][:1]:
        print(f"  {target.label}: {unexpected}", flush=True)
    data = json.loads(line[6:])
    return Sample(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["unexpected"] + data["socket_errors"],
        rss_mb=0.0,
        statuses=data["statuses"].strip(),
    )


# --- databases ------------------------------------------------------------------------------------
def create_postgresql(server_url: str) -> tuple[str, str]:
    import psycopg

    name = f"voipdesk_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_postgresql(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def voipdesk_targets(server: Server) -> list[Target]:
    status, answer = call(
        "POST",
        server.base + "/api/v1/auth/tokens",
        {"login": LOGIN, "password": PASSWORD, "name": "bench"},
    )
    if status != 201:
        raise SystemExit(f"no token for {LOGIN}: {status} {answer}")
    token = answer["token"] if "token" in answer else answer["secret"]
    status, groups = call("GET", server.base + "/api/v1/telephony", token=token)
    groups = groups["items"] if isinstance(groups, dict) else groups
    if status != 200 or not groups:
        raise SystemExit(f"the demo customer has no billing group: {status} {groups}")
    group = max(groups, key=lambda g: g.get("lines", 0))
    lines_url = f"{server.base}/api/v1/telephony/{group['id']}/lines"
    status, lines = call("GET", lines_url, token=token)
    count = len(lines["items"] if isinstance(lines, dict) else lines)
    refusals = []
    for candidate in ORDER_BODIES:
        status, order = call("POST", server.base + "/api/v1/orders", candidate, token=token)
        if status == 201:
            body = json.dumps(candidate)
            break
        refusals.append(f"{status} {order}")
    else:
        raise SystemExit("every order body is refused:\n" + "\n".join(refusals))
    return [
        Target("GET /api/v1/me", server.base + "/api/v1/me", token=token),
        Target(f"GET /telephony/{{group}}/lines ({count})", lines_url, token=token),
        Target("POST /api/v1/orders", server.base + "/api/v1/orders", "POST", 201, token, body),
    ]


# --- report ---------------------------------------------------------------------------------------
def spread(values: list[float], digits: int = 0) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def table(rows: list[Row], bare: dict[str, float]) -> str:
    head = ["database", "endpoint", "req/s", "p50 ms", "p99 ms", "errors", "ratio", "RSS MB"]
    body = []
    for row in rows:
        rps = [s.rps for s in row.samples]
        ratio = statistics.median(rps) / bare[row.database] if bare.get(row.database) else 0
        body.append(
            [
                row.database,
                row.target,
                spread(rps),
                spread([s.p50_ms for s in row.samples], 1),
                spread([s.p99_ms for s in row.samples], 1),
                str(sum(s.errors for s in row.samples)),
                f"{ratio:.2f}",
                spread([s.rss_mb for s in row.samples]),
            ]
        )
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in body:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint and run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=1, help="voipdesk serve --workers")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.port)
        return
    if not Path(args.wrk).exists():
        raise SystemExit("wrk is missing: apt-get install -y wrk (Debian/Ubuntu), or build wg/wrk")
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    voipdesk = str(Path(sys.executable).parent / "voipdesk")
    workdir = Path(tempfile.mkdtemp(prefix="voipdesk-bench-api-"))
    script = workdir / "bench.lua"
    script.write_text(WRK_SCRIPT)
    bare_server = start(
        "bare", [sys.executable, str(Path(__file__).resolve()), "--serve-bare"], workdir
    )
    rows: list[Row] = []
    bare_rps: dict[str, float] = {}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        bare_server.wait_ready("/bare")
        for database in databases:
            pg_name = None
            if database == "sqlite":
                url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            else:
                pg_name, url = create_postgresql(args.server_url)
            server = start(
                f"voipdesk-{database}",
                [
                    voipdesk,
                    "serve",
                    "--demo",
                    "--database-url",
                    url,
                    "--workers",
                    str(args.workers),
                ],
                workdir,
            )
            try:
                server.wait_ready("/api/v1/me")
                targets = [
                    (bare_server, Target("bare FastAPI (def)", bare_server.base + "/bare")),
                    *((server, t) for t in voipdesk_targets(server)),
                ]
                here = [Row(database, t.label) for _s, t in targets]
                for _owner, target in targets:  # warm-up, not counted
                    load(args.wrk, script, target, args.connections, args.threads, 1)
                for run in range(args.runs):
                    for row, (owner, target) in zip(here, targets, strict=True):
                        sample = load(
                            args.wrk, script, target, args.connections, args.threads, args.duration
                        )
                        sample.rss_mb = owner.rss_mb()
                        row.samples.append(sample)
                        print(
                            f"{database} run {run + 1}/{args.runs} {target.label}: "
                            f"{sample.rps:.0f} req/s, p50 {sample.p50_ms:.1f} ms, "
                            f"p99 {sample.p99_ms:.1f} ms, {sample.errors} errors"
                            + (f" (statuses {sample.statuses})" if sample.statuses else ""),
                            flush=True,
                        )
                bare_rps[database] = statistics.median(s.rps for s in here[0].samples)
                rows.extend(here)
            finally:
                server.stop()
                if pg_name:
                    drop_postgresql(args.server_url, pg_name)
    finally:
        bare_server.stop()
    print()
    print(
        f"{started}, {args.runs} run(s) of {args.duration:g} s per endpoint, "
        f"{args.connections} connections, wrk -t{args.threads}, voipdesk --workers {args.workers}, "
        f"{os.cpu_count()} CPU(s); median (min-max) over the runs; ratio = req/s / bare req/s"
    )
    print(table(rows, bare_rps))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
