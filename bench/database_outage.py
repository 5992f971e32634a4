"""A PostgreSQL restart in the middle of a load test on the API (`wrk`), counted second by second.

Each run creates its own throw-away PostgreSQL database (`bench/reliability.py`'s helpers),
migrates it, and starts a TCP proxy in this process (`tests/flaky_proxy.py`, the proxy of the
outage test) in front of the real PostgreSQL; two `voipdesk serve` processes get the proxy's
address as their database URL. A customer is signed up and given an API token, then one `wrk`
per serve process runs for `--duration` seconds with one connection per thread: half the threads
sign customers up (`POST /api/v1/accounts`, a new address each time, a write), the others read
`GET /api/v1/me` with the bearer token. At `--cut-at` seconds the proxy cuts every connection to
the database and refuses new ones for `--outage` seconds (the restart), then forwards again.

The Lua script writes down every answer (when its request was sent and when the answer came, in
ms of the wall clock, the status, the problem type of a non-2xx answer, the address of each 201);
a request whose answer never came (a wrk timeout or a cut socket) shows as a request sent again
on the same connection before any answer, and is counted as lost. This process buckets them per
second and by phase (before the cut, the outage, after), and at the end checks that every
account that answered 201 exists (read directly, not through the proxy).

    uv run python bench/database_outage.py --runs 3 --duration 30 --cut-at 10 --outage 5
    uv run python bench/database_outage.py --runs 1 --duration 40 --outage 15 --workers 2

With `--workers N`, N `voipdesk worker` processes (the periodic jobs and the outbox) run through
the same proxy, so they lose the database too; an SMTP peer (aiosmtpd) counts what arrives. After
the load the outbox drains, and each account must have had its welcome e-mail exactly once, no
Message-ID twice, no periodic job run twice in one period (`bench/reliability.py`'s counts).

`wrk` comes from Debian/Ubuntu: `apt-get install -y wrk`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from api import call, free_port, start
from reliability import (
    DOMAIN,
    JOB_RUNS_SQL,
    SmtpPeer,
    account_emails,
    create_database,
    drop_database,
    job_run_counts,
    outbox_counts,
    psql,
    spread,
    stop_all,
)
from sqlalchemy.engine import make_url
from tests.flaky_proxy import FlakyProxy

PASSWORD = "Bench-Password-2026!"
# One connection per thread, so that a thread's answers come in the order of its requests: each
# `response` closes the request sent last. Even threads sign up, odd threads read.
SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end
local threads = {}
local prefix = os.getenv("BENCH_PREFIX")
local outdir = os.getenv("BENCH_OUT")
local token = os.getenv("BENCH_TOKEN")
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  sent = nil
  -- wrk calls the first thread's request() once to check it before the load: not a request
  checked = (tid ~= 0)
  writer = (tid % 2 == 0)
  out = io.open(outdir .. "/" .. prefix .. "-" .. tid .. ".txt", "w")
end
function request()
  local t = now_ms()
  if sent and checked then  -- the previous request got no answer (timeout or cut socket)
    out:write(string.format("%.1f %.1f %s lost -\n", sent, t, writer and "w" or "r"))
  end
  if checked then sent = t else sent = nil end
  checked = true
  counter = counter + 1
  if writer then
    local body = '{"first_name": "Load", "last_name": "Test",' ..
      '"address_line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris",' ..
      '"password": "PASSWORD",' ..
      '"email": "' .. prefix .. "-" .. tid .. "-" .. counter .. '@DOMAIN"}'
    return wrk.format("POST", "/api/v1/accounts", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/api/v1/me", {["Authorization"] = "Bearer " .. token})
end
function response(status, headers, body)
  local t = now_ms()
  local detail = "-"
  if status == 201 then
    detail = body:match('"email":"([^"]+)"') or "-"
  elseif status >= 300 then
    local ct = headers["content-type"] or headers["Content-Type"] or "none"
    detail = body:match('"type":"([^"]+)"') or ("ct=" .. ct)
    if not ct:find("application/problem+json", 1, true) then
      detail = detail .. ",not-problem-json"
    end
    if status == 503 and not (headers["retry-after"] or headers["Retry-After"]) then
      detail = detail .. ",no-retry-after"
    end
  end
  local kind = writer and "w" or "r"
  out:write(string.format("%.1f %.1f %s %d %s\n", sent or t, t, kind, status, detail))
  out:flush()
  sent = nil
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\n',
    summary.requests, e.connect, e.read, e.write, e.timeout, e.status))
end
""".replace("DOMAIN", DOMAIN).replace("PASSWORD", PASSWORD)


@dataclass
class Answer:
    sent: float  # seconds since the load started
    received: float
    kind: str  # "w" (sign-up) or "r" (read)
    status: str  # the HTTP status, or "lost"
    detail: str  # the address of a 201, the problem type of an error


@dataclass
class Result:
    load_before: float
    cut_at: float
    back_at: float
    answers: list[Answer] = field(default_factory=list)
    wrk_errors: dict[str, int] = field(default_factory=dict)
    created_seen: int = 0
    created_before_cut: int = 0
    missing_after: int = 0  # answered 201, no account afterwards
    missing_before_cut: int = 0
    serve_alive: bool = True
    tracebacks: int = 0  # in the serve logs, other than the outbox worker's `worker.loop_failed`
    loop_failed: int = 0
    # with --workers: the e-mails and the periodic jobs, counted after the outbox drained
    workers_alive: bool = True
    worker_loop_failed: int = 0
    worker_tracebacks: int = 0
    drain_s: float = 0.0
    emails_written: int = 0
    emails_delivered: int = 0
    emails_given_up: int = 0
    accounts: int = 0
    accounts_without_email: int = 0
    accounts_with_two_emails: int = 0
    message_ids_twice: int = 0
    job_runs: int = 0
    job_runs_twice: int = 0
    undelivered: list[str] = field(default_factory=list)  # the rows left, to read what happened

    def phase(self, answer: Answer) -> str:
        if answer.received < self.cut_at:
            return "before"
        if answer.received < self.back_at:
            return "outage"
        return "after"

    def ok(self, answer: Answer) -> bool:
        return answer.status in ("200", "201")

    def rps(self, phase: str) -> float:
        span = {
            "before": self.cut_at,
            "outage": self.back_at - self.cut_at,
            "after": self.end - self.back_at,
        }[phase]
        return sum(1 for a in self.answers if self.phase(a) == phase) / span

    @property
    def end(self) -> float:
        return max(a.received for a in self.answers)

    def count(self, phase: str, status: str) -> int:
        return sum(1 for a in self.answers if self.phase(a) == phase and a.status == status)

    def others(self) -> Counter[str]:
        """Answers neither 200/201 nor 503 `database-unavailable`, by status and detail."""
        return Counter(
            f"{a.status} {a.detail}"
            for a in self.answers
            if not self.ok(a) and not (a.status == "503" and a.detail == "database-unavailable")
        )

    def longest_in_outage(self) -> float:
        """The longest answer time of a request that was in flight during the outage (s)."""
        return max(
            (
                a.received - a.sent
                for a in self.answers
                if a.status != "lost" and a.received >= self.cut_at and a.sent < self.back_at
            ),
            default=0.0,
        )

    def recovery(self) -> float:
        """Seconds after the proxy is back until the last failed answer of a request sent after
        it was back (0: none failed)."""
        failed = [a.received for a in self.answers if not self.ok(a) and a.sent >= self.back_at]
        return max(failed, default=self.back_at) - self.back_at

    def sent_after(self, status: str) -> int:
        return sum(1 for a in self.answers if a.status == status and a.sent >= self.back_at)

    def first_success_after(self) -> float:
        ok = [a.received for a in self.answers if self.ok(a) and a.sent >= self.back_at]
        return min(ok, default=float("nan")) - self.back_at


def read_answers(out: Path, origin: float) -> list[Answer]:
    answers = []
    for path in out.iterdir():
        for line in path.read_text().splitlines():
            sent, received, kind, status, detail = line.split(" ", 4)
            answers.append(
                Answer(
                    float(sent) / 1000 - origin,
                    float(received) / 1000 - origin,
                    kind,
                    status,
                    detail,
                )
            )
    return answers


def run_wrk(
    args: argparse.Namespace, script: Path, url: str, env: dict[str, str]
) -> dict[str, int]:
    import subprocess

    threads = args.threads
    argv = [args.wrk, f"-t{threads}", f"-c{threads}", f"-d{args.duration}s"]
    argv += ["--timeout", f"{args.timeout}s", "-s", str(script), url]
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True)
    bench = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not bench:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    return json.loads(bench[0][6:])


def one_run(args: argparse.Namespace, workdir: Path, run: int) -> Result:
    import subprocess

    from aiosmtpd.controller import Controller

    voipdesk = str(Path(sys.executable).parent / "voipdesk")
    load_before = os.getloadavg()[0]
    pg_name, url = create_database(args.server_url)
    direct = make_url(url)
    proxy = FlakyProxy(direct.host or "127.0.0.1", direct.port or 5432)
    proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    peer = SmtpPeer()
    smtp = Controller(peer, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        "VOIPDESK_DATABASE_URL": proxied,
        "VOIPDESK_SECRET_KEY": "bench-outage-" + os.urandom(24).hex(),
        "VOIPDESK_SMTP_HOST": "127.0.0.1",
        "VOIPDESK_SMTP_PORT": str(smtp.port),
    }
    servers = []
    workers: list[subprocess.Popen[bytes]] = []
    worker_logs = [workdir / f"outage-worker-{run}-{i}.log" for i in range(args.workers)]
    try:
        subprocess.run(
            [voipdesk, "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True
        )
        with psql(url) as connection:
            connection.execute(JOB_RUNS_SQL)
        servers = [
            start(f"outage-{run}-{i}", [voipdesk, "serve"], workdir, env) for i in range(args.serve)
        ]
        for log in worker_logs:
            workers.append(
                subprocess.Popen(
                    [voipdesk, "worker"],
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                    env={**os.environ, **env},
                )
            )
        for server in servers:
            server.wait_ready("/api/v1/me")
        reader = f"reader-{run}@{DOMAIN}"
        body = {
            "first_name": "Read",
            "last_name": "Er",
            "address_line1": "1 rue de la Paix",
            "postal_code": "75002",
            "city": "Paris",
            "password": PASSWORD,
            "email": reader,
        }
        status, answer = call("POST", servers[0].base + "/api/v1/accounts", body)
        if status != 201:
            raise RuntimeError(f"sign-up of the reader: {status} {answer}")
        status, answer = call(
            "POST",
            servers[0].base + "/api/v1/auth/tokens",
            {"login": reader, "password": PASSWORD, "name": "bench"},
        )
        if status != 201:
            raise RuntimeError(f"token of the reader: {status} {answer}")
        token = answer["token"] if "token" in answer else answer["secret"]
        script = workdir / "outage.lua"
        script.write_text(SCRIPT)
        out = workdir / f"answers-{run}"
        out.mkdir()
        errors: dict[str, int] = Counter()
        failures: list[BaseException] = []

        def drive(index: int) -> None:
            env = {"BENCH_PREFIX": f"o{run}s{index}", "BENCH_OUT": str(out), "BENCH_TOKEN": token}
            try:
                data = run_wrk(args, script, servers[index].base, env)
                errors.update({k: v for k, v in data.items() if k != "requests"})
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(servers))]
        origin = time.time()
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, origin + args.cut_at - time.time()))
        cut_at = time.time() - origin
        proxy.down()  # the restart: every connection cut, nothing listening
        time.sleep(max(0.0, origin + args.cut_at + args.outage - time.time()))
        proxy.up()
        back_at = time.time() - origin
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        result = Result(load_before=load_before, cut_at=cut_at, back_at=back_at)
        result.answers = read_answers(out, origin)
        result.wrk_errors = dict(errors)
        result.serve_alive = all(server.process.poll() is None for server in servers)
        result.workers_alive = all(process.poll() is None for process in workers)
        if workers:
            drain(result, url, peer, args.drain_timeout)
            stop_all(workers, signal.SIGTERM)
            texts = [log.read_text(errors="replace") for log in worker_logs]
            result.worker_loop_failed = sum(
                text.count("worker.loop_failed") + text.count("job.failed") for text in texts
            )
            result.worker_tracebacks = (
                sum(text.count("Traceback") for text in texts) - result.worker_loop_failed
            )
        stop_all([server.process for server in servers], signal.SIGTERM)
        accounts = account_emails(url)  # directly, not through the proxy
        created = [a for a in result.answers if a.status == "201"]
        result.created_seen = len(created)
        result.created_before_cut = sum(1 for a in created if a.received < cut_at)
        result.missing_after = sum(1 for a in created if a.detail.lower() not in accounts)
        result.missing_before_cut = sum(
            1 for a in created if a.received < cut_at and a.detail.lower() not in accounts
        )
        logs = [server.log.read_text(errors="replace") for server in servers]
        # the in-process outbox worker logs each failed pass with its traceback, and goes on
        result.loop_failed = sum(text.count("worker.loop_failed") for text in logs)
        result.tracebacks = sum(text.count("Traceback") for text in logs) - result.loop_failed
        if result.tracebacks:
            print(f"  tracebacks in {', '.join(str(server.log) for server in servers)}")
        return result
    finally:
        for process in [*workers, *(server.process for server in servers)]:
            if process.poll() is None:
                process.kill()
                process.wait()
        proxy.down()
        smtp.stop()
        drop_database(args.server_url, pg_name)


def drain(result: Result, url: str, peer: SmtpPeer, timeout: float) -> None:
    """Waits until every welcome e-mail is delivered or given up (read directly, not through the
    proxy), then counts what the SMTP peer received against the accounts and the job runs."""
    stopped = time.monotonic()
    while True:
        written, delivered, given_up = outbox_counts(url)
        if delivered + given_up >= written or time.monotonic() > stopped + timeout:
            break
        time.sleep(0.2)
    result.drain_s = time.monotonic() - stopped
    time.sleep(2)  # anything delivered twice would arrive now
    result.emails_written, result.emails_delivered, result.emails_given_up = outbox_counts(url)
    accounts = account_emails(url)
    result.accounts = len(accounts)
    result.accounts_without_email = sum(1 for a in accounts if peer.recipients[a] == 0)
    result.accounts_with_two_emails = sum(1 for a in accounts if peer.recipients[a] > 1)
    result.message_ids_twice = sum(1 for n in peer.message_ids.values() if n > 1)
    result.job_runs, result.job_runs_twice = job_run_counts(url)
    result.undelivered = undelivered_messages(url)


def undelivered_messages(url: str) -> list[str]:
    with psql(url) as connection:
        rows = connection.execute(
            "SELECT m.id, m.attempts, m.created_at, m.available_at, m.last_error, e.status,"
            " e.to_address FROM outbox_message m"
            " LEFT JOIN service_email e ON e.id::text = m.payload->>'email_id'"
            " WHERE m.topic = 'email.send' AND m.delivered_at IS NULL AND m.failed_at IS NULL"
        ).fetchall()
    return [" ".join(str(value) for value in row) for row in rows]


def worker_summary(results: list[Result]) -> str:
    return (
        f"workers alive at the end: {all(r.workers_alive for r in results)}; passes failed "
        f"{spread([r.worker_loop_failed for r in results])}; other tracebacks "
        f"{sum(r.worker_tracebacks for r in results)}; drained after the load (s) "
        f"{spread([r.drain_s for r in results], 1)}; accounts "
        f"{spread([r.accounts for r in results])}; e-mails written "
        f"{spread([r.emails_written for r in results])}, delivered "
        f"{spread([r.emails_delivered for r in results])}, given up "
        f"{sum(r.emails_given_up for r in results)}; accounts without an e-mail "
        f"{sum(r.accounts_without_email for r in results)}, with two "
        f"{sum(r.accounts_with_two_emails for r in results)}; Message-IDs twice "
        f"{sum(r.message_ids_twice for r in results)}; job runs "
        f"{spread([r.job_runs for r in results])}, twice in a period "
        f"{sum(r.job_runs_twice for r in results)}"
    )


def per_second(result: Result) -> list[str]:
    lines = ["  s   answers  2xx  503-db  other  lost  (2xx and 503 by kind: w=sign-up r=read)"]
    buckets: dict[int, Counter[str]] = {}
    for a in result.answers:
        bucket = buckets.setdefault(int(a.received), Counter())
        bucket["all"] += 1
        if result.ok(a):
            bucket["ok"] += 1
            bucket[a.kind] += 1
        elif a.status == "503" and a.detail == "database-unavailable":
            bucket["503"] += 1
            bucket[a.kind + "503"] += 1
        elif a.status == "lost":
            bucket["lost"] += 1
        else:
            bucket["other"] += 1
    for second in sorted(buckets):
        b = buckets[second]
        mark = "*" if result.cut_at - 1 < second < result.back_at else " "
        lines.append(
            f" {second:3d}{mark} {b['all']:6d} {b['ok']:5d} {b['503']:6d} {b['other']:6d}"
            f" {b['lost']:5d}  w={b['w']} r={b['r']}  503: w={b['w503']} r={b['r503']}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per run")
    parser.add_argument("--cut-at", type=float, default=10, help="seconds into the load")
    parser.add_argument("--outage", type=float, default=5, help="seconds without a database")
    parser.add_argument("--serve", type=int, default=2, help="serve processes (one wrk each)")
    parser.add_argument("--threads", type=int, default=4, help="wrk connections per serve")
    parser.add_argument("--timeout", type=int, default=20, help="wrk's request timeout (s)")
    parser.add_argument("--workers", type=int, default=0, help="voipdesk worker processes")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    args = parser.parse_args()
    if not Path(args.wrk).exists():
        raise SystemExit("wrk is missing: apt-get install -y wrk (Debian/Ubuntu), or build wg/wrk")
    workdir = Path(tempfile.mkdtemp(prefix="voipdesk-bench-outage-"))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = []
    for run in range(args.runs):
        r = one_run(args, workdir, run)
        results.append(r)
        print(f"run {run + 1}/{args.runs} (cut at {r.cut_at:.2f} s, back at {r.back_at:.2f} s):")
        print("\n".join(per_second(r)))
        print(
            f"  req/s before {r.rps('before'):.1f}, outage {r.rps('outage'):.1f}, after "
            f"{r.rps('after'):.1f}; 503 database-unavailable before {r.count('before', '503')}, "
            f"outage {r.count('outage', '503')}, after {r.count('after', '503')} (sent after the "
            f"proxy was back {r.sent_after('503')}); other answers {dict(r.others())}; longest "
            f"answer in the outage {r.longest_in_outage():.2f} s; last failure "
            f"{r.recovery():.2f} s after the proxy is back, first success "
            f"{r.first_success_after():.2f} s; 201s {r.created_seen} ({r.created_before_cut} "
            f"before the cut), missing afterwards {r.missing_after}; wrk errors {r.wrk_errors}; "
            f"serve alive {r.serve_alive}; outbox worker passes failed {r.loop_failed}, other "
            f"tracebacks in the logs {r.tracebacks}",
            flush=True,
        )
    print()
    print(
        f"{started}, {args.runs} run(s) of {args.duration} s, {args.serve} serve process(es), "
        f"{args.threads} wrk connections each (half sign-ups, half reads), cut at {args.cut_at} s "
        f"for {args.outage} s, {os.cpu_count()} CPU(s), load average (1 min) before each run "
        f"{spread([r.load_before for r in results], 1)}, after {os.getloadavg()[0]:.1f}; "
        "median (min-max)"
    )
    phases = ("before", "outage", "after")
    for phase in phases:
        print(f"answers/s {phase}: {spread([r.rps(phase) for r in results], 1)}")
    for phase in phases:
        counts = [r.count(phase, "503") for r in results]
        print(f"503 database-unavailable answered {phase}: {spread(counts)}")
    for kind, name in (("w", "sign-ups"), ("r", "reads")):
        counts = [
            sum(1 for a in r.answers if a.kind == kind and a.status == "503") for r in results
        ]
        print(f"503 database-unavailable to {name}: {spread(counts)}")
    print(f"503 sent after the proxy was back: {spread([r.sent_after('503') for r in results])}")
    print(f"other non-2xx answers: {dict(sum((r.others() for r in results), Counter()))}")
    lost = [sum(r.count(p, "lost") for p in phases) for r in results]
    print(f"lost (no answer): {spread(lost)}")
    longest = [r.longest_in_outage() for r in results]
    print(f"longest answer in the outage (s): {spread(longest, 2)}")
    print(f"last failure after the proxy is back (s): {spread([r.recovery() for r in results], 2)}")
    print(f"first success after (s): {spread([r.first_success_after() for r in results], 2)}")
    print(
        f"201s: {spread([r.created_seen for r in results])}, before the cut "
        f"{spread([r.created_before_cut for r in results])}; missing afterwards "
        f"{sum(r.missing_after for r in results)} (of those before the cut "
        f"{sum(r.missing_before_cut for r in results)})"
    )
    print(
        f"serve alive at the end: {all(r.serve_alive for r in results)}; outbox worker passes "
        f"failed: {spread([r.loop_failed for r in results])}; other tracebacks: "
        f"{sum(r.tracebacks for r in results)}"
    )
    if args.workers:
        print(f"{args.workers} worker process(es): " + worker_summary(results))
        for r in results:
            for row in r.undelivered:
                print(f"  left undelivered: {row}")
    if not any(r.tracebacks or r.worker_tracebacks for r in results):
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
