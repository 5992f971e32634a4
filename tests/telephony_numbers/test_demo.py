"""The demo's delivered customer has an alias as a queue of her two lines, an IVR with a spoken
greeting and abbreviated numbers; loading the demo again changes nothing."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from voipdesk.app import create_app
from voipdesk.demo import DELIVERED_CUSTOMER, DEMO_PASSWORD, load_demo
from voipdesk.telephony.aliases.models import AliasConfiguration


def test_lea_has_a_queue_an_ivr_with_a_spoken_greeting_and_abbreviated_numbers(platform):
    load_demo(platform)
    with TestClient(create_app(platform), base_url="https://testserver") as client:
        token = client.post(
            "/api/v1/auth/tokens",
            json={"login": DELIVERED_CUSTOMER["email"], "password": DEMO_PASSWORD, "name": "t"},
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        group = client.get("/api/v1/telephony", headers=headers).json()["items"][0]["id"]
        lines = [
            line["number"]
            for line in client.get(f"/api/v1/telephony/{group}/lines", headers=headers).json()[
                "items"
            ]
        ]
        numbers = client.get(f"/api/v1/telephony/{group}/numbers", headers=headers).json()["items"]
        configurations = [
            client.get(
                f"/api/v1/telephony/{group}/numbers/{quote(n['number'])}/configuration",
                headers=headers,
            ).json()
            for n in numbers[:3]
        ]
        queue, ivr, unconfigured = configurations
        assert queue["configuration"]["type"] == "queue"
        assert sorted(m["number"] for m in queue["configuration"]["queue"]["members"]) == sorted(
            lines
        )
        assert ivr["configuration"]["type"] == "ivr"
        assert ivr["compiled"]["greeting"]["audio_id"]  # spoken with espeak-ng
        assert set(ivr["compiled"]["menus"]["main"]["keys"]) == {"1", "2"}
        assert unconfigured["configuration"] == {"type": "none"}
        abbreviated = client.get(
            f"/api/v1/telephony/{group}/abbreviated-numbers", headers=headers
        ).json()["items"]
        assert [a["code"] for a in abbreviated] == ["7001", "7002"]
    load_demo(platform)
    with platform.session() as session:
        rows = session.scalars(select(AliasConfiguration)).all()
        assert len(rows) == 2 and {row.version for row in rows} == {1}
        assert session.scalar(select(func.count()).select_from(AliasConfiguration)) == 2
