"""A real Kamailio for the tests (started on loopback on free ports, stopped by its own pid) and
SIPp phones: each scenario is written here from a template, run as its own SIPp process."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from voipdesk.core.settings import Settings
from voipdesk.switch import config, sipp
from voipdesk.switch.sipp import free_port


def available() -> bool:
    return config.kamailio_binary() is not None and Path(sipp.SIPP).exists()


def options_ping(port: int, timeout: float = 0.3) -> bool:
    call_id = uuid.uuid4().hex
    message = (
        f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{call_id}\r\n"
        "Max-Forwards: 5\r\nFrom: <sip:ping@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        message = message.replace("127.0.0.1:9", f"127.0.0.1:{sock.getsockname()[1]}")
        sock.sendto(message.encode(), ("127.0.0.1", port))
        try:
            return sock.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


@dataclass
class Switch:
    settings: Settings
    folder: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def port(self) -> int:
        return self.settings.sip_port

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def switch_settings(settings: Settings, folder: Path, **overrides: object) -> Settings:
    values = {
        "sip_port": free_port(),
        "switch_reporter_port": free_port(),
        "switch_workers": 2,
        "switch_memory_mb": 128,
        "switch_ban_failures": 4,
        "switch_ban_seconds": 60,
        **overrides,
    }
    return settings.model_copy(update=values)


@contextmanager
def running_switch(settings: Settings, folder: Path) -> Iterator[Switch]:
    files = config.write(folder, settings)
    log_path = folder / "kamailio.log"
    with log_path.open("wb") as log:
        process = config.start(files, settings, stdout=log, stderr=subprocess.STDOUT)
    switch = Switch(settings=settings, folder=folder, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + 15
        while not options_ping(settings.sip_port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Kamailio did not start:\n" + switch.log()[-4000:])
            time.sleep(0.1)
        yield switch
    finally:
        switch.stop()


def Phone(
    switch: Switch, user: str, password: str | None, folder: Path, port: int | None = None
) -> sipp.Phone:
    """A SIPp phone of a line, talking to this test's switch."""
    return sipp.Phone(
        switch.port, switch.settings.sip_domain, user, password, folder, port or free_port()
    )
