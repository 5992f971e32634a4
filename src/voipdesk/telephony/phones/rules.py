"""Rules of Plug & Phone (no I/O): MAC addresses, the models lent, their provisioning file.

The lent phones are Yealink desk and DECT phones (one family, one configuration format): they ask
`GET /provisioning/<mac>.cfg` at boot and send their MAC in their User-Agent
("Yealink SIP-T46U 66.86.0.15 00:15:65:12:34:56"), which the server checks too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from voipdesk.telephony.phones import errors

_HEX = re.compile(r"^[0-9a-f]{12}$")


def normalise_mac(text: str) -> str:
    """ "00:15:65:AB:CD:EF", "00-15-65-ab-cd-ef" or "001565abcdef" -> "001565abcdef". Refused:
    not 12 hexadecimal digits, a group (multicast/broadcast) or all-zero address."""
    compact = re.sub(r"[\s:.\-]", "", text or "").lower()
    if not _HEX.fullmatch(compact) or int(compact[1], 16) & 1 or compact == "0" * 12:
        raise errors.MacMalformed(
            mac=(text or "").strip()[:40] or "—", fields={"mac": "Malformed."}
        )
    return compact


def mac_shown(mac: str) -> str:
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2)).upper()


def user_agent_is_of(user_agent: str | None, mac: str) -> bool:
    """The phone's User-Agent names this MAC (with or without separators)."""
    compact = re.sub(r"[\s:.\-]", "", user_agent or "").lower()
    return mac in compact


@dataclass(frozen=True)
class Model:
    code: str  # the catalogue's hardware code
    name: str
    family: str


FAMILY_YEALINK = "yealink"
MODELS = {
    m.code: m
    for m in (
        Model("phone-pnp-essential", "Yealink SIP-T31P", FAMILY_YEALINK),
        Model("phone-pnp-pro", "Yealink SIP-T46U", FAMILY_YEALINK),
        Model("phone-pnp-dect", "Yealink W73P", FAMILY_YEALINK),
    )
}


def model_of(hardware_code: str) -> Model:
    return MODELS.get(hardware_code, Model(hardware_code, hardware_code, FAMILY_YEALINK))


# Yealink's names of time zones, by IANA zone.
YEALINK_ZONES = {
    "Europe/Paris": "France(Paris)",
    "Europe/Brussels": "Belgium(Brussels)",
    "Europe/Zurich": "Switzerland(Bern)",
    "America/Montreal": "Canada(Montreal,Quebec)",
    "America/Toronto": "Canada(Montreal,Quebec)",
}
COUNTRY_ZONES = {
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "CH": "Europe/Zurich",
    "CA-QC": "America/Montreal",
}
YEALINK_LANGUAGES = {"fr": "French", "en": "English"}


def utc_offset_hours(zone: str, at: datetime) -> str:
    """The zone's standard offset as Yealink writes it ("+1"); daylight saving is the phone's."""
    january = datetime(at.year, 1, 15, tzinfo=UTC).astimezone(ZoneInfo(zone))
    offset = january.utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    return f"{hours:+d}"


@dataclass(frozen=True)
class Provisioning:
    mac: str
    model: Model
    number: str  # E.164
    label: str
    sip_username: str
    sip_password: str
    sip_server: str
    sip_port: int
    sip_transport: str
    zone: str
    language: str


TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2}


def yealink_config(p: Provisioning, at: datetime) -> str:
    """The Yealink configuration file (`key = value` lines under its version header)."""
    lines = [
        "#!version:1.0.0.1",
        f"## Plug & Phone {mac_shown(p.mac)} ({p.model.name}) for {p.number}",
        "account.1.enable = 1",
        f"account.1.label = {p.label}",
        f"account.1.display_name = {p.label}",
        f"account.1.auth_name = {p.sip_username}",
        f"account.1.user_name = {p.sip_username}",
        f"account.1.password = {p.sip_password}",
        f"account.1.sip_server.1.address = {p.sip_server}",
        f"account.1.sip_server.1.port = {p.sip_port}",
        f"account.1.sip_server.1.transport_type = {TRANSPORTS.get(p.sip_transport, 0)}",
        "account.1.sip_server.1.expires = 600",
        f"local_time.time_zone = {utc_offset_hours(p.zone, at)}",
        f"local_time.time_zone_name = {YEALINK_ZONES.get(p.zone, p.zone)}",
        "local_time.summer_time = 2",
        "local_time.ntp_server1 = pool.ntp.org",
        f"lang.gui = {YEALINK_LANGUAGES.get(p.language, 'English')}",
        f"lang.wui = {YEALINK_LANGUAGES.get(p.language, 'English')}",
    ]
    return "\n".join(lines) + "\n"


def parse_config(text: str) -> dict[str, str]:
    """The `key = value` pairs of a Yealink file (comments and the header skipped)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values
