"""SIPp phones for trying the switch: register a line, answer its calls, call a number.

Each action writes a SIPp scenario (transaction-based, so a late 180 is not a failure; the
answers echo Record-Route) and runs SIPp once. The tests use them, and `voipdesk switch phone`
lets an operator try a line by hand (SIPp is Debian's `sip-tester`).
"""

from __future__ import annotations

import os
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


REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">
  <send retrans="500"><![CDATA[
REGISTER sip:[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
To: <sip:[user]@[domain]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[user]@[local_ip]:[local_port]>
Expires: [expires]
Max-Forwards: 70
User-Agent: SIPp test phone
Content-Length: 0

]]></send>
  <recv response="401" auth="true" optional="true" next="auth"/>
  <recv response="[expected]" next="done">
    <action><ereg regexp="Reason: .*" search_in="msg" check_it="false" assign_to="reason"/>
    <log message="REASON [$reason]"/></action>
  </recv>
  <label id="auth"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
To: <sip:[user]@[domain]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[user]@[local_ip]:[local_port]>
[authentication]
Expires: [expires]
Max-Forwards: 70
User-Agent: SIPp test phone
Content-Length: 0

]]></send>
  <recv response="[expected]">
    <action><ereg regexp="Reason: .*" search_in="msg" check_it="false" assign_to="reason"/>
    <log message="REASON [$reason]"/></action>
  </recv>
  <label id="done"/>
</scenario>
"""

# A caller: INVITE, authenticated after the 407, then the expected final answer; an answered
# call is held for [hold] ms and hung up. Transaction-based (a late 180 is not a failure).
CALL_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="call">
"""
CHALLENGE = """  <send retrans="500" start_txn="invite1"><![CDATA[
INVITE sip:[dialled]@[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
To: <sip:[dialled]@[domain]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[user]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000

]]></send>
  <recv response="100" optional="true" response_txn="invite1"/>
  <recv response="407" auth="true" response_txn="invite1"/>
  <send ack_txn="invite1"><![CDATA[
ACK sip:[dialled]@[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
To: <sip:[dialled]@[domain]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
"""
CALL_BODY = """  <send retrans="500" start_txn="invite2"><![CDATA[
INVITE sip:[dialled]@[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
To: <sip:[dialled]@[domain]>
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:[user]@[local_ip]:[local_port]>
[authentication]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000

]]></send>
  <recv response="100" optional="true" response_txn="invite2"/>
  <recv response="180" optional="true" response_txn="invite2"/>
  <recv response="183" optional="true" response_txn="invite2"/>
  <recv response="[expected]" rrs="true" response_txn="invite2">
    <action><ereg regexp="Reason: .*" search_in="msg" check_it="false" assign_to="reason"/>
    <log message="REASON [$reason]"/></action>
  </recv>
  [after]
</scenario>
"""
ANSWERED_TAIL = """<send ack_txn="invite2"><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 ACK
Contact: <sip:[user]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="[hold]"/>
  <send retrans="500" start_txn="bye"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 3 BYE
Contact: <sip:[user]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" response_txn="bye"/>"""
REFUSED_TAIL = """<send ack_txn="invite2"><![CDATA[
ACK sip:[dialled]@[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[user]@[domain]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>"""

# A phone (or the trunk) that answers: [answer] is "200" (answers, waits for the BYE),
# "486" (busy) or "ring" (rings until the caller gives up: 487 after the CANCEL).
UAS_ANSWER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="P-Asserted-Identity: [^\r\n]*" search_in="msg" check_it="false"
        assign_to="pai"/>
      <ereg regexp="Privacy: [^\r\n]*" search_in="msg" check_it="false" assign_to="privacy"/>
      <ereg regexp="From: [^\r\n]*" search_in="msg" check_it="false" assign_to="from"/>
      <log message="RECEIVED [$pai] | [$privacy] | [$from]"/>
    </action>
  </recv>
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
  <pause milliseconds="[ring]"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000

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
UAS_BUSY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy phone">
  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
"""
UAS_RING = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone nobody answers">
  <recv request="INVITE"/>
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
  <recv request="CANCEL"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
"""


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
            str(free_port()),
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
