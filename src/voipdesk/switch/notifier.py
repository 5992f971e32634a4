"""The message-waiting indication: an unsolicited SIP NOTIFY (event `message-summary`, RFC 3842)
sent by voipdesk to the switch, which relays it to the line's registered phone. A small
non-INVITE client transaction over UDP: the request is sent again (RFC 3261 timer E) until a
final answer comes or 8 seconds pass."""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass

from voipdesk.core.settings import Settings
from voipdesk.switch import rules

FIRST_RETRY_SECONDS = 0.5
GIVE_UP_SECONDS = 8.0


class SwitchDidNotAnswer(Exception):
    """No final answer from the switch in time (it is retried later by the outbox)."""


class SwitchRefused(Exception):
    """The switch refused the summary (e.g. a token that does not match its configuration)."""


@dataclass(frozen=True)
class Outcome:
    status: int
    reason: str


def send_message_summary(
    settings: Settings, switch_token: str, sip_username: str, waiting: rules.WaitingMessages
) -> Outcome:
    """Sends the summary to the switch and returns its final answer (404: no phone registered)."""
    body = rules.message_summary_body(waiting, f"sip:{sip_username}@{settings.sip_domain}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((settings.switch_address, 0))
        host, port = sock.getsockname()
        branch = "z9hG4bK" + secrets.token_hex(8)
        request = "\r\n".join(
            [
                f"NOTIFY sip:{sip_username}@{settings.sip_domain} SIP/2.0",
                f"Via: SIP/2.0/UDP {host}:{port};branch={branch};rport",
                "Max-Forwards: 70",
                f"From: <sip:voicemail@{settings.sip_domain}>;tag={secrets.token_hex(6)}",
                f"To: <sip:{sip_username}@{settings.sip_domain}>",
                f"Call-ID: {secrets.token_hex(12)}@voipdesk",
                "CSeq: 1 NOTIFY",
                "Event: message-summary",
                "Subscription-State: active",
                f"X-Voipdesk-Token: {switch_token}",
                "Content-Type: application/simple-message-summary",
                f"Content-Length: {len(body.encode())}",
                "",
                body,
            ]
        ).encode()
        switch = (settings.switch_address, settings.sip_port)
        deadline = time.monotonic() + GIVE_UP_SECONDS
        interval = FIRST_RETRY_SECONDS
        sock.sendto(request, switch)
        resend_at = time.monotonic() + interval
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, min(resend_at, deadline) - time.monotonic()))
            try:
                data = sock.recv(65535)
            except TimeoutError:
                interval = min(interval * 2, 4.0)
                sock.sendto(request, switch)
                resend_at = time.monotonic() + interval
                continue
            outcome = _final(data, branch)
            if outcome is not None:
                return outcome
    raise SwitchDidNotAnswer(f"no answer from the switch at {switch[0]}:{switch[1]}")


def _final(data: bytes, branch: str) -> Outcome | None:
    """The final answer of our transaction in `data`, or None (a provisional one, or another)."""
    text = data.decode("utf-8", errors="replace")
    status_line, _, headers = text.partition("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit():
        return None
    if f"branch={branch}" not in headers.split("\r\n\r\n", 1)[0]:
        return None
    status = int(parts[1])
    if status < 200:
        return None
    return Outcome(status, parts[2] if len(parts) > 2 else "")
