"""The demo around the line: the delivered customer's Entreprise line has a Plug & Phone with its
MAC (its provisioning file is served to it), a registration, and a portability that failed (SMS
and e-mail recorded) and is in progress again; loading the demo twice adds nothing."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from voipdesk.accounts.models import ServiceEmail, ServiceSms
from voipdesk.app import create_app
from voipdesk.demo import DELIVERED_CUSTOMER, DEMO_PASSWORD, DEMO_PHONE_MAC, load_demo
from voipdesk.telephony.phones.rules import parse_config
from voipdesk.telephony.portability.models import Portability


def test_the_demo_phone_portability_and_diagnostics(platform):
    load_demo(platform)
    with TestClient(create_app(platform), base_url="https://testserver") as client:
        token = client.post(
            "/api/v1/auth/tokens",
            json={"login": DELIVERED_CUSTOMER["email"], "password": DEMO_PASSWORD, "name": "t"},
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        group = client.get("/api/v1/telephony", headers=headers).json()["items"][0]["id"]
        lines = client.get(f"/api/v1/telephony/{group}/lines", headers=headers).json()["items"]
        line = next(x["number"] for x in lines if x["offer"] == "sip-entreprise")
        base = f"/api/v1/telephony/{group}/lines/{quote(line)}"
        phone = client.get(f"{base}/phone", headers=headers).json()["phone"]
        assert phone["mac"] == DEMO_PHONE_MAC and phone["state"] == "lent"
        config = client.get(
            phone["provisioning_url"].removeprefix("https://testserver"),
            headers={"User-Agent": f"Yealink SIP-T46U 66.86.0.15 {DEMO_PHONE_MAC}"},
        )
        assert config.status_code == 200
        assert parse_config(config.text)["account.1.user_name"] == line.lstrip("+")
        found = client.get(f"{base}/diagnostics", headers=headers).json()
        assert found["registered"] is True
        [ongoing] = client.get(
            f"/api/v1/telephony/{group}/portabilities?ongoing=true", headers=headers
        ).json()["items"]
        assert ongoing["step"] == "sent_to_operator"
        assert "failed" in [e["step"] for e in ongoing["timeline"]]
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(ServiceSms)) == 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(ServiceEmail)
                .where(ServiceEmail.kind == "portability-failed")
            )
            == 1
        )
    load_demo(platform)
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(Portability)) == 1
