"""Writes the Kamailio configuration that routes with voipdesk's module, and runs Kamailio.

`write(folder, settings)` leaves three files there: `kamailio.cfg` (native part: modules, limits,
listening socket; routing is `cfgengine "python"`), `voipdesk_routing.py` (what app_python3 loads:
it finds this project's `voipdesk.switch` package and builds the handler) and `switch.json` (the
handler's settings). Plain `kamailio -f folder/kamailio.cfg` then works, as does
`voipdesk switch run`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import voipdesk
from voipdesk.core.settings import Settings

MODULES_PATH = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
MODULES = [
    "kex",
    "corex",
    "tm",
    "tmx",
    "sl",
    "rr",
    "pv",
    "maxfwd",
    "usrloc",
    "registrar",
    "textops",
    "siputils",
    "xlog",
    "sanity",
    "ctl",
    "auth",
    "dialog",
    "htable",
    "pike",
    "rtimer",
    "app_python3",
]


@dataclass(frozen=True)
class SwitchFiles:
    folder: Path
    config: Path
    routing: Path
    settings: Path
    control_socket: Path
    pid_file: Path


def switch_token(settings: Settings) -> str:
    """The token the switch presents to voipdesk's internal API (star codes): the setting, or
    one derived from the secret key so that both sides agree without another secret to share."""
    if settings.switch_token:
        return settings.switch_token
    return hmac.new(settings.secret_key.encode(), b"voipdesk-switch", hashlib.sha256).hexdigest()


def handler_settings(settings: Settings) -> dict[str, Any]:
    trunk = None
    if settings.switch_trunk:
        host, _, port = settings.switch_trunk.partition(":")
        trunk = {"host": host, "port": int(port or 5060), "max_calls": settings.switch_trunk_calls}
    database_url = settings.database_url
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        # Kamailio works from "/": a path relative to this folder is made absolute.
        relative = database_url.removeprefix("sqlite:///")
        database_url = f"sqlite:///{Path(relative).resolve()}"
    return {
        "database_url": database_url,
        "domain": settings.sip_domain,
        "trunk": trunk,
        "ban_failures": settings.switch_ban_failures,
        "media_uri": settings.switch_media_uri,
        "api_url": settings.switch_api_url or settings.base_url,
        "switch_token": switch_token(settings),
        "reporter_port": settings.switch_reporter_port or settings.sip_port + 1,
    }


def render(settings: Settings, files: SwitchFiles) -> str:
    loads = "\n".join(f'loadmodule "{name}.so"' for name in MODULES)
    transport = settings.sip_transport if settings.sip_transport in ("udp", "tcp") else "udp"
    listen = f"{transport}:{settings.switch_address}:{settings.sip_port}"
    return f"""#!KAMAILIO
# Written by `voipdesk switch config`: routing is in Python (voipdesk.switch.kamailio.handler).
debug=2
log_stderror=yes
log_prefix="{{$mt $hdr(CSeq) $ci}} "
children={settings.switch_workers}
listen={listen}
alias="{settings.sip_domain}"
auto_aliases=no
server_header="Server: voipdesk"
user_agent_header="User-Agent: voipdesk"
tcp_children=2
# Pitfalls of Kamailio 5.6 with KEMI (these callbacks must exist or be "none").
kemi.onsend_route_callback="none"
kemi.reply_route_callback="none"
kemi.event_route_callback=""

mpath="{MODULES_PATH}"
{loads}

modparam("ctl", "binrpc", "unix:{files.control_socket}")
modparam("tm", "failure_reply_mode", 3)
modparam("tm", "fr_timer", 4000)
modparam("tm", "fr_inv_timer", 60000)
modparam("rr", "append_fromtag", 1)
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "preload", "location")
modparam("registrar", "default_expires", 3600)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "min_expires", 30)
modparam("auth", "nonce_expire", 300)
modparam("dialog", "profiles_with_value", "line_calls;trunk_calls")
modparam("dialog", "event_callback", "ksr_dialog_event")
modparam("dialog", "default_timeout", 43200)
modparam("dialog", "enable_stats", 0)
# Banned addresses (after failed authentications) and failure counts, both expiring.
modparam("htable", "htable", "vd_ban=>size=10;autoexpire={settings.switch_ban_seconds};")
modparam("htable", "htable", "vd_authfail=>size=10;autoexpire={settings.switch_ban_seconds};")
modparam("htable", "htable", "vd_rotation=>size=8;")
# Floods: more than this many requests from one address per 2 s are dropped (and reported).
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", {settings.switch_flood_requests})
modparam("pike", "remove_latency", 4)
# The records' writer: a timer process of its own stores what the workers reported.
modparam("rtimer", "timer", "name=vdrecords;interval=100000u;mode=1;")
modparam("rtimer", "exec", "timer=vdrecords;route=ksr_flush_events")
modparam("app_python3", "load", "{files.routing}")

cfgengine "python"
"""


def routing_entry(files: SwitchFiles) -> str:
    source = Path(voipdesk.__file__).resolve().parent.parent
    return f'''"""Loaded by Kamailio's app_python3 (written by `voipdesk switch config`)."""

import json
import os
import sys

sys.path.insert(0, {str(source)!r})
# The embedded interpreter is Debian's python3, whose paths it may take from another python on
# PATH (a virtual environment): Debian's own packages (psycopg2) are added explicitly.
for folder in ("/usr/lib/python3/dist-packages",):
    if os.path.isdir(folder) and folder not in sys.path:
        sys.path.append(folder)

from voipdesk.switch.kamailio.handler import Handler  # noqa: E402

with open({str(files.settings)!r}, encoding="utf-8") as settings_file:
    SETTINGS = json.load(settings_file)


def mod_init():
    return Handler(SETTINGS)
'''


def files_in(folder: Path) -> SwitchFiles:
    folder = folder.resolve()
    return SwitchFiles(
        folder=folder,
        config=folder / "kamailio.cfg",
        routing=folder / "voipdesk_routing.py",
        settings=folder / "switch.json",
        control_socket=folder / "kamailio_ctl",
        pid_file=folder / "kamailio.pid",
    )


def write(folder: Path, settings: Settings) -> SwitchFiles:
    folder.mkdir(parents=True, exist_ok=True)
    files = files_in(folder)
    files.settings.write_text(json.dumps(handler_settings(settings), indent=2), encoding="utf-8")
    files.settings.chmod(0o600)  # it holds the switch's API token
    files.routing.write_text(routing_entry(files), encoding="utf-8")
    files.config.write_text(render(settings, files), encoding="utf-8")
    return files


def kamailio_binary() -> str | None:
    return shutil.which("kamailio") or (
        "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
    )


def command(files: SwitchFiles, settings: Settings) -> list[str]:
    """Kamailio in the foreground, logging to standard error. Shared memory is sized for the
    call rate (about 140 KB per call per second) and the tlsf allocator halves the CPU that the
    default one spends in malloc."""
    binary = kamailio_binary() or "kamailio"
    return [
        binary,
        "-f",
        str(files.config),
        "-P",
        str(files.pid_file),
        "-Y",
        str(files.folder),
        "-m",
        str(settings.switch_memory_mb),
        "-M",
        "32",
        "-x",
        "tlsf",
        "-X",
        "tlsf",
        "-DD",
        "-E",
    ]


def start(files: SwitchFiles, settings: Settings, **popen: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command(files, settings), **popen)
