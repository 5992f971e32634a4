# ruff: noqa: E501  (report lines; SIPp and Kamailio are run by name)
"""Calls per second through Kamailio with voipdesk's routing, beside the same Kamailio doing a
plain forward, measured in the same run on this machine.

    uv run python bench/switch.py --database sqlite --rates 250,500,1000,1500,2000,3000
    uv run python bench/switch.py --database postgresql --rates 250,500,1000,1500,2000,3000

Topology: SIPp UAC -> Kamailio (udp, 4 SIP workers, -m 2048, tlsf) -> SIPp UAS, all on 127.0.0.1
and on the same cores. Each call: INVITE, 180, 200, ACK, 1 s talk, BYE, 200.

- voipdesk routing: the caller's line authenticates its INVITE (407 then digest against the HA1),
  its routing record is read (with the callee's), the outgoing restrictions and the simultaneous
  call limit (dialog profiles) are checked, the callee's features are applied, the call is relayed
  to the callee's registered phone, and its record is written (batched by the writer process).
  Callers and callees are drawn from `--lines` lines whose records are real compiled records.
  Before the calls, every callee line registers (REGISTER with digest; its rate is measured too).
- plain forward: a native Kamailio script that record-routes and relays every INVITE to the UAS
  (no authentication, no lookup, no limit, no record).

A rate passes when at most 0.1 % of the calls fail (created minus successful). Reported per rate:
failures, Kamailio's CPU (percent of one core, summed from /proc/PID/stat of its processes), its
CPU per call (µs) and its resident memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from voipdesk.core.migrate import upgrade
from voipdesk.core.settings import Settings
from voipdesk.switch import config
from voipdesk.switch.sipp import free_media_port, free_port
from voipdesk.telephony import rules as telephony_rules

DOMAIN = "bench.voipdesk.example"
TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench-password"
HOLD_MS = 1000

UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench phone">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:[local_ip]:[local_port]>
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:[local_ip]:[local_port]>
Content-Length: 0

]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""

INVITE = """INVITE sip:[field2]@{domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@{domain}>;tag=[pid]SIPpTag[call_number]
To: <sip:[field2]@{domain}>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:[field0]@[local_ip]:[local_port]>
{auth}Max-Forwards: 70
Content-Length: 0
"""


def uac_scenario(authenticated: bool) -> str:
    challenge = ""
    if authenticated:
        challenge = f"""  <send retrans="500" start_txn="i1"><![CDATA[
{INVITE.format(domain=DOMAIN, cseq=1, auth="")}
]]></send>
  <recv response="100" optional="true" response_txn="i1"/>
  <recv response="407" auth="true" response_txn="i1"/>
  <send ack_txn="i1"><![CDATA[
ACK sip:[field2]@{DOMAIN} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@{DOMAIN}>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
"""
    auth = "[field1]\n" if authenticated else ""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench caller">
{challenge}  <send retrans="500" start_txn="i2"><![CDATA[
{INVITE.format(domain=DOMAIN, cseq=2, auth=auth)}
]]></send>
  <recv response="100" optional="true" response_txn="i2"/>
  <recv response="180" optional="true" response_txn="i2"/>
  <recv response="200" rrs="true" response_txn="i2"/>
  <send ack_txn="i2"><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[field0]@{DOMAIN}>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="{HOLD_MS}"/>
  <send retrans="500" start_txn="bye"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[field0]@{DOMAIN}>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" response_txn="bye"/>
</scenario>
"""


REGISTER = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench register">
  <send retrans="500"><![CDATA[
REGISTER sip:{DOMAIN} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@{DOMAIN}>;tag=[pid]SIPpTag[call_number]
To: <sip:[field0]@{DOMAIN}>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[field0]@127.0.0.1:[field2]>
Expires: 3600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:{DOMAIN} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@{DOMAIN}>;tag=[pid]SIPpTag[call_number]
To: <sip:[field0]@{DOMAIN}>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[field0]@127.0.0.1:[field2]>
[field1]
Expires: 3600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""

PLAIN_CFG = """#!KAMAILIO
debug=1
log_stderror=yes
children={workers}
listen=udp:127.0.0.1:{port}
auto_aliases=no
mpath="{modules}"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "ctl.so"
modparam("ctl", "binrpc", "unix:{folder}/plain_ctl")
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here"); exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("OPTIONS") && $rU == $null) {{ sl_send_reply("200", "OK"); exit; }}
    record_route();
    $du = "sip:127.0.0.1:{uas_port}";
    t_relay();
}}
"""


def line_user(index: int) -> str:
    return f"3319{index:07d}"


def seed_lines(database_url: str, count: int) -> None:
    """`count` lines' routing records, compiled by the telephony area's own rule (Entreprise
    lines with 10 simultaneous calls, 1 in 10 with a busy forward, caller ID, restrictions)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    upgrade(engine)
    rows = []
    for index in range(count):
        user = line_user(index)
        number = "+" + user
        ha1 = hashlib.md5(f"{user}:{DOMAIN}:{PASSWORD}".encode()).hexdigest()
        settings: dict[str, Any] = {"block_premium": index % 3 == 0}
        if index % 10 == 0:
            settings["forwards"] = {"busy": {"target": "voicemail", "number": None, "delay": None}}
        record = telephony_rules.compile_record(
            telephony_rules.LineFacts(
                number=number,
                kind="sip_line",
                state="active",
                billing_group_id=f"group{index // 20:06d}",
                sip_username=user,
                sip_ha1=ha1,
                offer="sip-entreprise",
                simultaneous_calls=10,
                outgoing_calls=True,
                options=(),
                settings=settings,
                voicemail={"enabled": True, "greeting": "standard", "pin_set": False},
                alias_configuration=None,
            ),
            DOMAIN,
        )
        rows.append(
            {
                "number": number,
                "sip_username": user,
                "service_id": f"svc{index:08d}",
                "kind": "sip_line",
                "version": 1,
                "record": json.dumps(record),
                "updated_at": "2026-12-01 00:00:00",
            }
        )
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM telephony_routing_record"))
        connection.execute(text("DELETE FROM switch_call_record"))
        statement = text(
            "INSERT INTO telephony_routing_record (number, sip_username, service_id, kind, version, record, updated_at)"
            " VALUES (:number, :sip_username, :service_id, :kind, :version, :record, :updated_at)"
        )
        for start in range(0, len(rows), 5000):
            connection.execute(statement, rows[start : start + 5000])
    engine.dispose()


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes (shared memory counted once per process: an upper
    bound)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def kamailio_pids(main: int) -> list[int]:
    found = [main]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == main:
                found.append(int(entry.name))
    return found


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.switch.harness import options_ping

    deadline = time.monotonic() + 20
    while not options_ping(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("Kamailio did not start")
        time.sleep(0.2)


def sipp(args: list[str], timeout: float) -> tuple[int, int, str]:
    """Runs SIPp; returns (calls created, successful calls, output)."""
    result = subprocess.run(["sipp", *args], capture_output=True, timeout=timeout, check=False)
    out = result.stdout.decode(errors="replace")
    created = re.findall(r"Total Calls created\s+\|\s+\|\s+(\d+)", out)
    success = re.findall(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", out)
    return (int(created[-1]) if created else 0), (int(success[-1]) if success else 0), out


def common(port: int) -> list[str]:
    return [
        "-i",
        "127.0.0.1",
        "-buff_size",
        "4194304",
        "-nostdin",
        "-trace_err",
        "-recv_timeout",
        "8000",
        "-max_socket",
        "1024",
    ]


def run_rates(
    name: str,
    target_port: int,
    scenario: Path,
    csv: Path | None,
    rates: list[int],
    seconds: int,
    main_pid: int,
    folder: Path,
) -> list[dict[str, Any]]:
    results = []
    for rate in rates:
        pids = kamailio_pids(main_pid)
        before = cpu_seconds(pids)
        started = time.monotonic()
        args = [
            f"127.0.0.1:{target_port}",
            "-sf",
            str(scenario),
            "-p",
            str(free_port()),
            "-cp",
            str(free_port()),
            "-mp",
            str(free_media_port()),
            "-r",
            str(rate),
            "-m",
            str(rate * seconds),
            "-l",
            str(rate * 4),
            "-timeout",
            f"{seconds + 30}s",
            "-error_file",
            str(folder / f"{name}-{rate}.err"),
            *common(0),
        ]
        if csv is not None:
            args += ["-inf", str(csv)]
        created, success, _out = sipp(args, seconds + 60)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(pids) - before
        failed = created - success
        share = failed / created if created else 1.0
        results.append(
            {
                "variant": name,
                "rate": rate,
                "calls": created,
                "failed": failed,
                "failed_percent": round(share * 100, 3),
                "passed": share <= 0.001 and created > 0,
                "kamailio_cpu_percent": round(cpu / elapsed * 100, 1),
                "kamailio_cpu_us_per_call": round(cpu / max(success, 1) * 1e6),
                "kamailio_rss_mb": round(rss_mb(pids)),
            }
        )
        print(json.dumps(results[-1]), flush=True)
        if not results[-1]["passed"]:
            break
        time.sleep(3)  # dialogs and transactions of this step wind down
    return results


def write_calls_csv(path: Path, lines: int, calls: int) -> None:
    """SEQUENTIAL: caller;[authentication ...];callee (callers and callees never the same)."""
    random.seed(7)
    with path.open("w") as out:
        out.write("SEQUENTIAL\n")
        for _ in range(calls):
            caller = random.randrange(lines // 2)
            callee = lines // 2 + random.randrange(lines // 2)
            user = line_user(caller)
            out.write(
                f"{user};[authentication username={user} password={PASSWORD}];+{line_user(callee)}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "VOIPDESK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--rates", default="250,500,1000,1500,2000,3000,4000")
    parser.add_argument("--plain-rates", default="1000,2000,3000,4000,5000,6000")
    parser.add_argument("--register-rates", default="500,1000,2000,4000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument("--output", type=Path)
    options = parser.parse_args()
    if not shutil.which("sipp") or config.kamailio_binary() is None:
        sys.exit("needs Debian's kamailio, kamailio-python3-modules and sip-tester")
    rates = [int(r) for r in options.rates.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="voipdesk-switch-bench-"))
    database_url = (
        f"sqlite:///{folder / 'bench.sqlite3'}"
        if options.database == "sqlite"
        else options.postgres_url
    )
    print(f"seeding {options.lines} lines in {options.database}...", flush=True)
    seed_lines(database_url, options.lines)
    uas_scenario = folder / "uas.xml"
    uas_scenario.write_text(UAS)

    def start_uas() -> tuple[int, subprocess.Popen[bytes]]:
        """A fresh UAS for each variant (nothing left over from the previous one)."""
        port = free_port()
        command = ["sipp", "-sf", str(uas_scenario), "-p", str(port), "-cp", str(free_port())]
        command += [
            "-mp",
            str(free_media_port()),
            *common(0),
            "-error_file",
            str(folder / f"uas-{port}.err"),
        ]
        return port, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    uas_port, uas = start_uas()
    report: dict[str, Any] = {
        "database": options.database,
        "lines": options.lines,
        "seconds": options.seconds,
        "workers": options.workers,
    }
    try:
        if not options.skip_plain:
            port = free_port()
            cfg = folder / "plain.cfg"
            cfg.write_text(
                PLAIN_CFG.format(
                    workers=options.workers,
                    port=port,
                    modules=config.MODULES_PATH,
                    folder=folder,
                    uas_port=uas_port,
                )
            )
            plain = subprocess.Popen(
                [
                    config.kamailio_binary() or "kamailio",
                    "-f",
                    str(cfg),
                    "-P",
                    str(folder / "plain.pid"),
                    "-Y",
                    str(folder),
                    "-m",
                    "2048",
                    "-M",
                    "32",
                    "-x",
                    "tlsf",
                    "-X",
                    "tlsf",
                    "-DD",
                    "-E",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(folder / "plain.log").open("wb"),
            )
            try:
                wait_ready(port, plain)
                scenario = folder / "plain-uac.xml"
                scenario.write_text(uac_scenario(authenticated=False))
                csv = folder / "plain.csv"
                write_calls_csv(csv, options.lines, 10)
                plain_rates = [int(r) for r in options.plain_rates.split(",")]
                report["plain"] = run_rates(
                    "plain forward",
                    port,
                    scenario,
                    csv,
                    plain_rates,
                    options.seconds,
                    plain.pid,
                    folder,
                )
            finally:
                plain.send_signal(signal.SIGTERM)
                plain.wait(timeout=20)
            uas.send_signal(signal.SIGTERM)
            uas.wait(timeout=10)
            time.sleep(2)
            uas_port, uas = start_uas()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            secret_key="bench-secret-key-0123456789abcdef",
            sip_domain=DOMAIN,
            sip_port=free_port(),
            switch_reporter_port=free_port(),
            switch_workers=options.workers,
            switch_memory_mb=2048,
            switch_flood_requests=10_000_000,
            switch_ban_failures=1_000_000,
        )
        files = config.write(folder / "voipdesk", settings)
        routing = config.start(
            files, settings, stdout=subprocess.DEVNULL, stderr=(folder / "voipdesk.log").open("wb")
        )
        try:
            wait_ready(settings.sip_port, routing)
            registrations = folder / "register.csv"
            callees = list(range(options.lines // 2, options.lines))
            with registrations.open("w") as out:
                out.write("SEQUENTIAL\n")
                for index in callees:
                    user = line_user(index)
                    out.write(
                        f"{user};[authentication username={user} password={PASSWORD}];{uas_port}\n"
                    )
            scenario = folder / "register.xml"
            scenario.write_text(REGISTER)
            register_rates = [int(r) for r in options.register_rates.split(",")]
            report["register"] = run_rates(
                "REGISTER with digest",
                settings.sip_port,
                scenario,
                registrations,
                register_rates,
                -(-len(callees) // min(register_rates)),
                routing.pid,
                folder,
            )
            scenario = folder / "voipdesk-uac.xml"
            scenario.write_text(uac_scenario(authenticated=True))
            csv = folder / "calls.csv"
            write_calls_csv(csv, options.lines, max(rates) * options.seconds)
            report["voipdesk"] = run_rates(
                "voipdesk routing",
                settings.sip_port,
                scenario,
                csv,
                rates,
                options.seconds,
                routing.pid,
                folder,
            )
            time.sleep(2)
            engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.connect() as connection:
                report["call_records_written"] = connection.execute(
                    text("SELECT count(*) FROM switch_call_record")
                ).scalar()
            engine.dispose()
        finally:
            routing.send_signal(signal.SIGTERM)
            routing.wait(timeout=20)
    finally:
        uas.send_signal(signal.SIGTERM)
        uas.wait(timeout=10)
    best = {
        name: max((r["rate"] for r in report.get(name, []) if r["passed"]), default=0)
        for name in ("plain", "voipdesk", "register")
    }
    report["max_passing_rate"] = best
    if best["plain"]:
        report["ratio"] = round(best["voipdesk"] / best["plain"], 2)
    print(
        json.dumps(
            {
                k: v
                for k, v in report.items()
                if k in ("max_passing_rate", "ratio", "call_records_written")
            }
        )
    )
    if options.output:
        options.output.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
