"""SIPp phones for trying the switch: register a line, answer its calls, call a number.

Each action writes a SIPp scenario (transaction-based, so a late 180 is not a failure; the
answers echo Record-Route) and runs SIPp once. The tests use them, and `voipdesk switch phone`
lets an operator try a line by hand (SIPp is Debian's `sip-tester`).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

SIPP = shutil.which("sipp") or "/usr/bin/sipp"


def free_port() -> int:
    """A port free for both UDP and TCP on loopback (SIPp opens both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port


# Below Linux's ephemeral range (32768-60999), where free_port() and the kernel pick the
# switch's and the phones' ports: SIPp's media ports there can no longer meet them.
_MEDIA_PORTS = range(20000, 32000, 4)


def free_media_port() -> int:
    """A base for SIPp's `-mp`: SIPp binds it and the three ports after it (audio and video RTP
    and RTCP), so all four must be free; one free port alone once met the switch at base+2."""
    while True:
        base = random.choice(_MEDIA_PORTS)
        sockets = []
        try:
            for offset in range(4):
                udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(udp)
                udp.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        finally:
            for udp in sockets:
                udp.close()
        return base


# --- Scenarios, built from their messages ---------------------------------------------------------
HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n'
TAIL = "</scenario>\n"
SDP = (
    "v=0\no=user1 53655765 2353687637 IN IP4 [local_ip]\ns=-\nc=IN IP4 [local_ip]\nt=0 0\n"
    "m=audio [media_port] RTP/AVP 8\na=rtpmap:8 PCMA/8000\n"
)
# The final answer's Reason header, logged for the tests ("REASON ..." in the log file).
REASON = (
    '<action><ereg regexp="Reason: .*" search_in="msg" check_it="false" assign_to="reason"/>\n'
    '    <log message="REASON [$reason]"/></action>'
)
ME = "<sip:[user]@[domain]>"
THEM = "<sip:[dialled]@[domain]>"


def send(message: str, attributes: str = 'retrans="500"') -> str:
    return f"  <send {attributes}><![CDATA[\n{message}\n]]></send>\n".replace("<send >", "<send>")


def request(
    first_line: str,
    cseq: str,
    *,
    to: str,
    contact: bool = True,
    routes: bool = False,
    headers: tuple[str, ...] = (),
    sdp: bool = False,
) -> str:
    """A request of the phone ([user]) with SIPp's keywords for what each call fills in."""
    lines = [first_line, "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]"]
    if routes:
        lines.append("[routes]")
    lines += [f"From: {ME};tag=[pid]SIPpTag[call_number]", to, "Call-ID: [call_id]"]
    lines.append(f"CSeq: {cseq}")
    if contact:
        lines.append("Contact: <sip:[user]@[local_ip]:[local_port]>")
    lines += [*headers, "Max-Forwards: 70"]
    if sdp:
        lines += ["Content-Type: application/sdp", "Content-Length: [len]", "", SDP]
    else:
        lines += ["Content-Length: 0", ""]
    return "\n".join(lines)


def reply(
    status: str,
    *,
    tag: bool = True,
    record_route: bool = False,
    contact: bool = False,
    sdp: bool = False,
    cseq: str = "[last_CSeq:]",
) -> str:
    """An answer of the phone to the last request it received."""
    to = "[last_To:];tag=[pid]SIPpTag01[call_number]" if tag else "[last_To:]"
    lines = [f"SIP/2.0 {status}", "[last_Via:]", "[last_From:]", to, "[last_Call-ID:]", cseq]
    if record_route:
        lines.append("[last_Record-Route:]")
    if contact:
        lines.append("Contact: <sip:[local_ip]:[local_port]>")
    if sdp:
        lines += ["Content-Type: application/sdp", "Content-Length: [len]", "", SDP]
    else:
        lines += ["Content-Length: 0", ""]
    return "\n".join(lines)


def _register(cseq: int, authenticated: bool) -> str:
    headers = ("[authentication]",) if authenticated else ()
    return send(
        request(
            "REGISTER sip:[domain] SIP/2.0",
            f"{cseq} REGISTER",
            to=f"To: {ME}",
            headers=(*headers, "Expires: [expires]", "User-Agent: SIPp test phone"),
        )
    )


# REGISTER; after the 401, again with the digest; then the expected answer (a refusal may come
# before any challenge).
REGISTER = (
    HEAD.format(name="register")
    + _register(1, authenticated=False)
    + '  <recv response="401" auth="true" optional="true" next="auth"/>\n'
    + f'  <recv response="[expected]" next="done">\n    {REASON}\n  </recv>\n'
    + '  <label id="auth"/>\n'
    + _register(2, authenticated=True)
    + f'  <recv response="[expected]">\n    {REASON}\n  </recv>\n'
    + '  <label id="done"/>\n'
    + TAIL
)


def _ack(cseq: int, *, to: str, in_dialog: bool) -> str:
    first = "ACK [next_url] SIP/2.0" if in_dialog else "ACK sip:[dialled]@[domain] SIP/2.0"
    message = request(first, f"{cseq} ACK", to=to, contact=in_dialog, routes=in_dialog)
    return send(message, f'ack_txn="invite{cseq}"')


# A caller: INVITE, authenticated after the 407, then the expected final answer; an answered
# call is held for [hold] ms and hung up. Transaction-based (a late 180 is not a failure).
CALL_HEAD = HEAD.format(name="call")
CHALLENGE = (
    send(
        request("INVITE sip:[dialled]@[domain] SIP/2.0", "1 INVITE", to=f"To: {THEM}", sdp=True),
        'retrans="500" start_txn="invite1"',
    )
    + '  <recv response="100" optional="true" response_txn="invite1"/>\n'
    + '  <recv response="407" auth="true" response_txn="invite1"/>\n'
    + _ack(1, to=f"To: {THEM}[peer_tag_param]", in_dialog=False)
)
CALL_BODY = (
    send(
        request(
            "INVITE sip:[dialled]@[domain] SIP/2.0",
            "2 INVITE",
            to=f"To: {THEM}",
            headers=("[authentication]",),
            sdp=True,
        ),
        'retrans="500" start_txn="invite2"',
    )
    + "".join(
        f'  <recv response="{code}" optional="true" response_txn="invite2"/>\n'
        for code in (100, 180, 183)
    )
    + f'  <recv response="[expected]" rrs="true" response_txn="invite2">\n    {REASON}\n  </recv>\n'
    + "  [after]\n"
    + TAIL
)
ANSWERED_TAIL = (
    _ack(2, to="[last_To:]", in_dialog=True)
    + '  <pause milliseconds="[hold]"/>\n'
    + send(
        request("BYE [next_url] SIP/2.0", "3 BYE", to="[last_To:]", routes=True),
        'retrans="500" start_txn="bye"',
    )
    + '  <recv response="200" response_txn="bye"/>'
)
REFUSED_TAIL = _ack(2, to="[last_To:]", in_dialog=False)

# What the phone received, logged for the tests ("RECEIVED PAI | Privacy | From").
RECEIVED = """  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="P-Asserted-Identity: [^\r\n]*" search_in="msg" check_it="false"
        assign_to="pai"/>
      <ereg regexp="Privacy: [^\r\n]*" search_in="msg" check_it="false" assign_to="privacy"/>
      <ereg regexp="From: [^\r\n]*" search_in="msg" check_it="false" assign_to="from"/>
      <log message="RECEIVED [$pai] | [$privacy] | [$from]"/>
    </action>
  </recv>
"""
RINGING = send(reply("180 Ringing", record_route=True, contact=True), "")

# A phone (or the trunk) that answers (waits for the BYE), is busy, or rings until the caller
# gives up (487 after the CANCEL).
UAS_ANSWER = (
    HEAD.format(name="phone")
    + RECEIVED
    + RINGING
    + '  <pause milliseconds="[ring]"/>\n'
    + send(reply("200 OK", record_route=True, contact=True, sdp=True))
    + '  <recv request="ACK" crlf="true"/>\n  <recv request="BYE"/>\n'
    + send(reply("200 OK", tag=False), "")
    + TAIL
)
UAS_BUSY = (
    HEAD.format(name="busy phone")
    + '  <recv request="INVITE"/>\n'
    + send(reply("486 Busy Here"), "")
    + '  <recv request="ACK"/>\n'
    + TAIL
)
UAS_RING = (
    HEAD.format(name="phone nobody answers")
    + '  <recv request="INVITE"/>\n'
    + RINGING
    + '  <recv request="CANCEL"/>\n'
    + send(reply("200 OK", tag=False), "")
    + send(reply("487 Request Terminated", cseq="CSeq: [cseq] INVITE"), "")
    + '  <recv request="ACK"/>\n'
    + TAIL
)


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"[{key}]", value)
    return template


@dataclass
class Outcome:
    returncode: int
    output: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Phone:
    """A SIPp phone of one line (its SIP user and password), bound to its own port, talking to
    the switch at `server_port` on loopback."""

    server_port: int
    domain: str
    user: str
    password: str | None
    folder: Path
    port: int = field(default_factory=free_port)
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _base(self, scenario: Path, *extra: str) -> list[str]:
        command = [
            SIPP,
            f"127.0.0.1:{self.server_port}",
            "-sf",
            str(scenario),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-mp",
            str(free_media_port()),
            "-cp",
            str(free_port()),
            "-m",
            "1",
            "-nostdin",
            "-timeout_error",
            "-trace_logs",
            "-log_file",
            str(scenario.with_suffix(".log")),
            "-trace_err",
            "-error_file",
            str(scenario.with_suffix(".err")),
        ]
        if self.password is not None:
            command += ["-au", self.user, "-ap", self.password]
        return command + list(extra)

    def _scenario(self, name: str, template: str, values: dict[str, str]) -> Path:
        path = self.folder / f"{name}-{uuid.uuid4().hex[:8]}.xml"
        path.write_text(_fill(template, {"domain": self.domain, **values}))
        return path

    def _run(self, scenario: Path, timeout: float, *extra: str) -> Outcome:
        command = self._base(scenario, *extra, "-timeout", f"{int(timeout)}s")
        result = subprocess.run(command, capture_output=True, timeout=timeout + 10, check=False)
        log = scenario.with_suffix(".log")
        text = log.read_text(errors="replace") if log.exists() else ""
        errors = scenario.with_suffix(".err")
        if errors.exists():
            text += errors.read_text(errors="replace")
        reason = ""
        for line in text.splitlines():
            if line.startswith("REASON "):
                reason = line[len("REASON ") :].strip("[] ")
        return Outcome(result.returncode, result.stdout.decode(errors="replace") + text, reason)

    def register(self, expected: int = 200, expires: int = 3600) -> Outcome:
        scenario = self._scenario(
            "register",
            REGISTER,
            {"user": self.user, "expected": str(expected), "expires": str(expires)},
        )
        return self._run(scenario, 10)

    def call(
        self, dialled: str, expected: int = 200, hold_ms: int = 300, timeout: float = 20
    ) -> Outcome:
        """Calls `dialled`; succeeds when the final answer is `expected` (an answered call is
        held, then hung up). A phone without a password (the trunk) is not challenged."""
        tail = ANSWERED_TAIL if expected == 200 else REFUSED_TAIL
        challenge = CHALLENGE if self.password is not None else ""
        body = CALL_BODY
        if self.password is None:
            body = body.replace("[authentication]\n", "").replace("CSeq: 2", "CSeq: 1")
        template = CALL_HEAD + challenge + _fill(body, {"after": tail})
        values = {
            "user": self.user,
            "dialled": dialled,
            "expected": str(expected),
            "hold": str(hold_ms),
        }
        return self._run(self._scenario("call", template, values), timeout)

    def answer(
        self, how: str = "200", ring_ms: int = 100, calls: int = 1, timeout: int = 60
    ) -> subprocess.Popen[bytes]:
        """Waits in the background for `calls` calls and answers each as told."""
        template = {"200": UAS_ANSWER, "486": UAS_BUSY, "ring": UAS_RING}[how]
        scenario = self._scenario(f"uas-{how}", template, {"ring": str(ring_ms)})
        command = self._base(scenario, "-timeout", f"{timeout}s")
        command[command.index("-m") + 1] = str(calls)
        self.answer_log = scenario.with_suffix(".log")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.background.append(process)
        time.sleep(0.3)  # SIPp binds its socket
        return process

    def received(self) -> list[str]:
        """What the last answered INVITEs carried: "PAI | Privacy | From" per call."""
        log = getattr(self, "answer_log", None)
        if log is None or not log.exists():
            return []
        lines = log.read_bytes().decode(errors="replace").replace("\r", "").split("\n")
        return [line[len("RECEIVED ") :] for line in lines if line.startswith("RECEIVED ")]

    def wait(self, process: subprocess.Popen[bytes], timeout: float = 30) -> int:
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return -1

    def stop(self) -> None:
        for process in self.background:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)
