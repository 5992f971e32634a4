"""The integrator guide of the README works as written: its `bash` blocks run in order, with
curl and jq, against the application served on a free port."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from sqlalchemy import select

from tests.accounts.factories import PASSWORD, make_account
from tests.conftest import require
from tests.integrators.conftest import ROOT
from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.orders.models import PurchaseOrder
from voipdesk.webhooks.models import WebhookEndpoint

SECTION = re.compile(r"^## For integrators\n(.*?)^## ", re.S | re.M)
BASH = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)


def guide_blocks() -> list[str]:
    found = SECTION.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found is not None, "the README has a section '## For integrators'"
    return BASH.findall(found.group(1))


def test_the_guide_has_an_example_for_each_topic() -> None:
    text = "\n".join(guide_blocks())
    for needle in ("/auth/tokens", "Idempotency-Key", "next_cursor", "errors", "webhooks"):
        assert needle in text


def test_the_guide_commands_run_against_a_live_server(live_server: str, platform: Platform) -> None:
    require(
        bool(shutil.which("curl") and shutil.which("jq")), "curl and jq", "apt-get install curl jq"
    )
    make_account(platform, email="ops@example.com", is_staff=True)
    script = "\n".join(guide_blocks())
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ
        | {"VOIPDESK": live_server, "STAFF_LOGIN": "ops@example.com", "STAFF_PASSWORD": PASSWORD},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    output = run.stdout
    assert "one order: " in output
    assert '"status": "succeeded"' in output
    assert '"type": "invalid-input"' in output and '"type": "int_parsing"' in output
    assert '"status": 404' in output
    assert "order.delivered" in output and '"secret_starts": "whsec_"' in output
    with platform.session() as session:
        lea = session.scalars(select(Account).where(Account.email == "lea@example.com")).one()
        orders = session.scalars(select(PurchaseOrder).where(PurchaseOrder.account_id == lea.id))
        assert len(orders.all()) == 2  # the repeated Idempotency-Key made no third order
        (endpoint,) = session.scalars(select(WebhookEndpoint)).all()
        assert endpoint.event_types == ["order.paid", "order.delivered", "invoice.issued"]
