"""Helpers of the number-side telephony tests: a customer with lines and alias numbers."""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from urllib.parse import quote

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver

OUTSIDE = "+33478123456"  # a valid French landline outside the group


@dataclass
class Customer:
    account: object
    group: str
    lines: list[str]
    aliases: list[str]
    headers: dict[str, str]

    def url(self, alias: str, tail: str = "configuration") -> str:
        return f"/api/v1/telephony/{self.group}/numbers/{quote(alias)}/{tail}"


def customer(
    client, *, lines=(("sip-entreprise", 2), ("sip-decouverte", 1)), aliases=2
) -> Customer:  # type: ignore[no-untyped-def]
    platform = client.app.state.platform
    account = make_account(platform)
    result = deliver(platform, account.id, lines=list(lines), aliases=aliases)
    with platform.session() as session:
        from voipdesk.subscriptions import queries

        services = queries.group_services(session, result.billing_group_id)
    headers = {
        "Authorization": f"Bearer {api_token_for(client, account)}",
        "Accept-Language": "en",
    }
    return Customer(
        account=account,
        group=result.billing_group_id,
        lines=[c.number_e164 for c in result.sip_credentials],
        aliases=[s.number for s in services if s.kind == "alias_number"],
        headers=headers,
    )


def tone_wav(seconds: float = 1.0, rate: int = 44100, channels: int = 2) -> bytes:
    """A WAV file the tests make themselves: a 440 Hz tone."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        frames = bytearray()
        for index in range(int(seconds * rate)):
            value = int(8000 * math.sin(2 * math.pi * 440 * index / rate))
            frames += struct.pack("<h", value) * channels
        writer.writeframes(bytes(frames))
    return buffer.getvalue()


def ivr_with_queue(lines: list[str]) -> dict:
    """An IVR: key 1 rings the first line, key 2 a queue of both lines, greeting spoken."""
    return {
        "type": "ivr",
        "greeting": {"text": "Bonjour, bienvenue.", "language": "fr"},
        "root": "main",
        "queues": [
            {
                "id": "sales",
                "name": "Sales",
                "members": [{"kind": "line", "number": n} for n in lines],
                "strategy": "ring_all",
            }
        ],
        "menus": [
            {
                "id": "main",
                "name": "Main menu",
                "keys": [
                    {"key": "1", "action": "line", "target": lines[0]},
                    {"key": "2", "action": "queue", "target": "sales"},
                ],
            }
        ],
    }
