"""Two `voipdesk serve` and two `voipdesk worker` processes on one PostgreSQL under load:
every welcome e-mail delivered exactly once, no periodic job run twice in one period (counted).

Each run creates its own throw-away PostgreSQL database (`voipdesk_bench_reliability_*`),
migrates it (`voipdesk db upgrade`) and adds a trigger that records every run of a periodic job
(each update of `job_schedule.last_run_at`: which job, the time it was planned for, when it ran).
It starts an SMTP peer (aiosmtpd, in this process) that records the Message-ID and recipients of
every e-mail it receives, then, as child processes with the project's CLI, two `voipdesk serve`
(each with its in-process outbox worker) and two `voipdesk worker`, all on that database and that
SMTP peer: four workers compete for the outbox and the periodic jobs. `wrk` then signs customers
up on both serve processes at once (one wrk per process, a Lua script posting a new address each
time to the JSON sign-up endpoint `POST /api/v1/accounts`, which must answer 201 and writes a
welcome e-mail to the outbox); the script writes down the address of each 201 it received.
When the load stops, the workers drain the outbox (the SMTP peer stays up until every message is
delivered or given up), then the two workers get SIGTERM (the time each takes to exit is
measured), then the serve processes. Counted: accounts created against wrk's 201s (an account
whose answer was still in flight when wrk stopped is created but not counted by wrk: at most one
per connection), welcome e-mails received per account address, Message-IDs received twice, job
runs and job runs twice in one period, requests/s and errors from wrk, each process's peak RSS.

    uv run python bench/reliability.py --runs 3 --duration 20

`wrk` comes from Debian/Ubuntu: `apt-get install -y wrk`. The figures only mean something on a
quiet machine: the load generator shares its cores with the four processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import Server, free_port, start

DOMAIN = "bench.voipdesk.example"
# Every request a new address: the prefix (one per wrk process), the thread's number and a
# counter make it unique. Each 201 answer names the account's address: it is written to the
# thread's file, so that the accounts created can be matched against what wrk saw.
SIGNUP_SCRIPT = r"""
local threads = {}
local prefix = os.getenv("BENCH_PREFIX")
local outdir = os.getenv("BENCH_OUT")
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  created = 0
  unexpected = 0
  statuses = ""
  out = io.open(outdir .. "/" .. prefix .. "-" .. tid .. ".txt", "w")
end
function request()
  counter = counter + 1
  local body = '{"first_name": "Load", "last_name": "Test", "address_line1": "1 rue de la Paix",' ..
    '"postal_code": "75002", "city": "Paris", "password": "Bench-Password-2026!",' ..
    '"email": "' .. prefix .. "-" .. tid .. "-" .. counter .. '@DOMAIN"}'
  return wrk.format("POST", "/api/v1/accounts", {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status == 201 then
    created = created + 1
    local email = body:match('"email":"([^"]+)"')
    if email then out:write(email .. "\n"); out:flush() end
  else
    if unexpected == 0 then io.write("UNEXPECTED " .. status .. " " .. body:sub(1, 300) .. "\n") end
    unexpected = unexpected + 1
    if #statuses < 40 then statuses = statuses .. status .. " " end
  end
end
function done(summary, latency, requests)
  local made, bad, seen = 0, 0, ""
  for _, t in ipairs(threads) do
    made = made + t:get("created")
    bad = bad + t:get("unexpected")
    seen = seen .. t:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "created": %d, ' ..
    '"unexpected": %d, "socket_errors": %d, "statuses": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    made, bad, e.connect + e.read + e.write + e.timeout, seen))
end
""".replace("DOMAIN", DOMAIN)

# Every run of a periodic job, as the database sees it (a worker claims a due job by moving
# its `last_run_at`): two runs for one planned time, or closer than the job's period, are a
# job done twice.
JOB_RUNS_SQL = """
CREATE TABLE bench_job_run (
    name text, planned_for timestamptz, ran_at timestamptz, every interval
);
CREATE FUNCTION bench_record_job_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_run_at IS DISTINCT FROM OLD.last_run_at THEN
        INSERT INTO bench_job_run
        VALUES (NEW.name, OLD.next_run_at, NEW.last_run_at, NEW.next_run_at - NEW.last_run_at);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bench_job_run AFTER UPDATE ON job_schedule
    FOR EACH ROW EXECUTE FUNCTION bench_record_job_run();
"""


class SmtpPeer:
    """The SMTP peer's handler: counts each Message-ID and each recipient received."""

    def __init__(self) -> None:
        self.message_ids: Counter[str] = Counter()
        self.recipients: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        from email import message_from_bytes

        message_id = message_from_bytes(envelope.content).get("Message-ID", "")
        with self.lock:
            self.message_ids[message_id] += 1
            for recipient in envelope.rcpt_tos:
                self.recipients[recipient.lower()] += 1
        return "250 OK"


@dataclass
class WrkResult:
    requests: int
    seconds: float
    created: int
    unexpected: int
    socket_errors: int
    p50_ms: float
    p99_ms: float


@dataclass
class Result:
    rps: float
    requests: int
    created_seen_by_wrk: int
    non_201: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    accounts: int
    in_flight_at_stop: int  # created, answer not received by wrk before it stopped
    seen_by_wrk_not_created: int
    written: int
    delivered: int
    failed: int
    message_ids: int
    message_ids_twice: int
    accounts_without_email: int
    accounts_with_two_emails: int
    job_runs: int
    job_runs_twice: int
    drain_s: float
    worker_stop_s: list[float]
    loop_failures: int  # `worker.loop_failed` or `job.failed` in the four processes' logs
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    load_before: float = 0.0


def psql(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True)


def create_database(server_url: str) -> tuple[str, str]:
    name = f"voipdesk_bench_reliability_{uuid.uuid4().hex[:8]}"
    with psql(server_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, name: str) -> None:
    with psql(server_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB; its children's added."""
    from api import _children

    total = 0
    for one in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def run_wrk(
    wrk: str, script: Path, url: str, connections: int, seconds: int, prefix: str, out: Path
) -> WrkResult:
    env = {**os.environ, "BENCH_PREFIX": prefix, "BENCH_OUT": str(out)}
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    done = subprocess.run([*argv, url], env=env, capture_output=True, text=True, check=False)
    lines = done.stdout.splitlines()
    bench = [line for line in lines if line.startswith("BENCH ")]
    if done.returncode != 0 or not bench:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    for unexpected in [line for line in lines if line.startswith("UNEXPECTED ")][:1]:
        print(f"  {prefix}: {unexpected}", flush=True)
    data = json.loads(bench[0][6:])
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        created=data["created"],
        unexpected=data["unexpected"],
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def one_run(args: argparse.Namespace, workdir: Path, run: int) -> Result:
    from aiosmtpd.controller import Controller

    voipdesk = str(Path(sys.executable).parent / "voipdesk")
    load_before = os.getloadavg()[0]
    pg_name, url = create_database(args.server_url)
    peer = SmtpPeer()
    smtp = Controller(peer, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        "VOIPDESK_DATABASE_URL": url,
        "VOIPDESK_SECRET_KEY": "bench-reliability-" + os.urandom(24).hex(),
        "VOIPDESK_SMTP_HOST": "127.0.0.1",
        "VOIPDESK_SMTP_PORT": str(smtp.port),
    }
    workers: list[subprocess.Popen[bytes]] = []
    servers: list[Server] = []
    try:
        subprocess.run(
            [voipdesk, "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True
        )
        with psql(url) as connection:
            connection.execute(JOB_RUNS_SQL)
        servers = [start(f"serve-{run}-{i}", [voipdesk, "serve"], workdir, env) for i in range(2)]
        for i in range(2):
            log = (workdir / f"worker-{run}-{i}.log").open("wb")
            workers.append(
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
        for process in workers:
            if process.poll() is not None:
                raise RuntimeError(f"a worker stopped at start (exit {process.returncode})")
        script = workdir / "signup.lua"
        script.write_text(SIGNUP_SCRIPT)
        out = workdir / f"created-{run}"
        out.mkdir()
        results: dict[int, WrkResult] = {}
        failures: list[BaseException] = []

        def drive(index: int, server: Server) -> None:
            try:
                results[index] = run_wrk(
                    args.wrk,
                    script,
                    server.base + "/api/v1/accounts",
                    args.connections,
                    args.duration,
                    f"r{run}s{index}",
                    out,
                )
            except BaseException as error:
                failures.append(error)

        threads = [
            threading.Thread(target=drive, args=(index, server))
            for index, server in enumerate(servers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        stopped = time.monotonic()
        deadline = stopped + args.drain_timeout
        while True:
            written, delivered, failed = outbox_counts(url)
            if delivered + failed >= written or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        drain_s = time.monotonic() - stopped
        time.sleep(2)  # anything delivered twice would arrive now
        peaks = {f"worker-{i}": peak_rss_mb(p.pid) for i, p in enumerate(workers)}
        peaks.update({f"serve-{i}": peak_rss_mb(s.process.pid) for i, s in enumerate(servers)})
        # The workers get SIGTERM (what a service manager sends) while the serve processes still
        # run their own outbox workers and the periodic jobs keep running.
        stop_s = stop_all(workers, signal.SIGTERM)
        for server in servers:
            stop_all([server.process], signal.SIGTERM)
        written, delivered, failed = outbox_counts(url)
        accounts = account_emails(url)
        seen = {
            line.strip().lower()
            for path in out.iterdir()
            for line in path.read_text().splitlines()
            if line.strip()
        }
        job_runs, job_runs_twice = job_run_counts(url)
        logs = [workdir / f"worker-{run}-{i}.log" for i in range(2)]
        logs += [server.log for server in servers]
        loop_failures = sum(
            text.count("worker.loop_failed") + text.count("job.failed")
            for text in (path.read_text(errors="replace") for path in logs)
        )
        requests = sum(r.requests for r in results.values())
        return Result(
            rps=sum(r.requests / r.seconds for r in results.values()),
            requests=requests,
            created_seen_by_wrk=sum(r.created for r in results.values()),
            non_201=sum(r.unexpected for r in results.values()),
            socket_errors=sum(r.socket_errors for r in results.values()),
            p50_ms=max(r.p50_ms for r in results.values()),
            p99_ms=max(r.p99_ms for r in results.values()),
            accounts=len(accounts),
            in_flight_at_stop=len(accounts - seen),
            seen_by_wrk_not_created=len(seen - accounts),
            written=written,
            delivered=delivered,
            failed=failed,
            message_ids=sum(1 for key in peer.message_ids if key),
            message_ids_twice=sum(1 for n in peer.message_ids.values() if n > 1),
            accounts_without_email=sum(1 for a in accounts if peer.recipients[a] == 0),
            accounts_with_two_emails=sum(1 for a in accounts if peer.recipients[a] > 1),
            job_runs=job_runs,
            job_runs_twice=job_runs_twice,
            drain_s=drain_s,
            worker_stop_s=stop_s,
            loop_failures=loop_failures,
            peak_rss_mb=peaks,
            load_before=load_before,
        )
    finally:
        for process in [*workers, *(server.process for server in servers)]:
            if process.poll() is None:
                process.kill()
                process.wait()
        smtp.stop()
        drop_database(args.server_url, pg_name)


def stop_all(
    processes: list[subprocess.Popen[bytes]], signum: int, patience: float = 30
) -> list[float]:
    """Sends `signum` to every process at once; the seconds each took to exit (killed after
    `patience`, then counted as `patience`)."""
    started = time.monotonic()
    for process in processes:
        process.send_signal(signum)
    took = []
    for process in processes:
        try:
            process.wait(max(0.0, patience - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        took.append(time.monotonic() - started)
    return took


def outbox_counts(url: str) -> tuple[int, int, int]:
    with psql(url) as connection:
        row = connection.execute(
            "SELECT count(*), count(delivered_at), count(failed_at) FROM outbox_message"
            " WHERE topic = 'email.send'"
        ).fetchone()
        return row[0], row[1], row[2]


def account_emails(url: str) -> set[str]:
    with psql(url) as connection:
        rows = connection.execute(
            "SELECT lower(email) FROM account WHERE email LIKE %s", (f"%@{DOMAIN}",)
        ).fetchall()
    return {email for (email,) in rows}


def job_run_counts(url: str) -> tuple[int, int]:
    """(job runs, runs that repeat one already done in its period)."""
    with psql(url) as connection:
        runs = connection.execute("SELECT count(*) FROM bench_job_run").fetchone()[0]
        twice = connection.execute(
            "SELECT count(*) FROM ("
            "  SELECT ran_at - lag(ran_at) OVER (PARTITION BY name ORDER BY ran_at) AS gap,"
            "         every,"
            "         count(*) OVER (PARTITION BY name, planned_for) AS same_plan"
            "  FROM bench_job_run) AS runs"
            " WHERE gap < every OR same_plan > 1"
        ).fetchone()[0]
    return runs, twice


def spread(values: list[float], digits: int = 0) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
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
    results = []
    for run in range(args.runs):
        result = one_run(args, workdir, run)
        results.append(result)
        print(f"run {run + 1}/{args.runs}: {result}", flush=True)
    print()
    print(
        f"{started}, {args.runs} run(s) of {args.duration} s, 2 serve + 2 worker processes, "
        f"{args.connections} connections per serve, {os.cpu_count()} CPU(s), load average "
        f"(1 min) before each run {spread([r.load_before for r in results], 1)}, after "
        f"{os.getloadavg()[0]:.1f}; median (min-max)"
    )
    print(f"sign-ups/s (both serve): {spread([r.rps for r in results], 1)}")
    print(
        f"p50 / p99 latency (ms): {spread([r.p50_ms for r in results])} / "
        f"{spread([r.p99_ms for r in results])}"
    )
    print(
        f"wrk requests: {spread([r.requests for r in results])}, non-201: "
        f"{sum(r.non_201 for r in results)}, socket errors: {sum(r.socket_errors for r in results)}"
    )
    print(
        f"accounts: {spread([r.accounts for r in results])}; seen by wrk (201): "
        f"{spread([r.created_seen_by_wrk for r in results])}; created while wrk stopped: "
        f"{spread([r.in_flight_at_stop for r in results])}; seen by wrk and not created: "
        f"{sum(r.seen_by_wrk_not_created for r in results)}"
    )
    print(
        f"welcome e-mails written: {spread([r.written for r in results])}, delivered: "
        f"{spread([r.delivered for r in results])}, given up: {sum(r.failed for r in results)}"
    )
    print(
        f"Message-IDs received: {spread([r.message_ids for r in results])}, twice: "
        f"{sum(r.message_ids_twice for r in results)}; accounts without their e-mail: "
        f"{sum(r.accounts_without_email for r in results)}, with two: "
        f"{sum(r.accounts_with_two_emails for r in results)}"
    )
    print(
        f"periodic job runs: {spread([r.job_runs for r in results])}, twice in one period: "
        f"{sum(r.job_runs_twice for r in results)}; worker loops or jobs failed: "
        f"{sum(r.loop_failures for r in results)}"
    )
    print(f"drain after load (s): {spread([r.drain_s for r in results], 1)}")
    print(
        f"worker exit after SIGTERM (s): {spread([s for r in results for s in r.worker_stop_s], 1)}"
    )
    for name in results[0].peak_rss_mb:
        print(f"peak RSS {name} (MB): {spread([r.peak_rss_mb[name] for r in results])}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
