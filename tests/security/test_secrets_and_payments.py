"""Finding 1: the public default secret, forged payment events, the sandbox switched on silently."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import test_settings as make_settings
from tests.orders.api_harness import ApiClient, api_client
from tests.orders.helpers import with_terms
from tests.security.conftest import problem
from voipdesk import cli
from voipdesk.accounts.models import Account
from voipdesk.core.db import make_engine
from voipdesk.core.platform import Platform
from voipdesk.core.settings import (
    DEFAULT_SECRET_KEY,
    get_settings,
    new_secret,
    secret_problems,
)
from voipdesk.payments.provider import (
    SIGNATURE_HEADER,
    TEST_CARD_NEEDS_CONFIRMATION,
    TEST_CARD_SUCCEEDS,
    sign,
    webhook_secret,
)

CART = {"lines": [{"offer": "sip-decouverte", "quantity": 1, "area": "01"}]}
CARD = {"number": TEST_CARD_SUCCEEDS, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


# --- the secret key ------------------------------------------------------------------------------
def test_default_or_short_secret_key_is_refused_with_how_to_make_one() -> None:
    good = new_secret()
    assert len(good) >= 32 and new_secret() != good
    settings = make_settings("sqlite://", secret_key=DEFAULT_SECRET_KEY)
    [problem_text] = secret_problems(settings)
    assert "default" in problem_text and "voipdesk secret" in problem_text
    [short] = secret_problems(make_settings("sqlite://", secret_key="short-key"))
    assert "too short" in short
    assert secret_problems(make_settings("sqlite://", secret_key=good)) == []


def test_webhook_secret_is_required_and_separate_from_the_session_key() -> None:
    key = new_secret()
    missing = make_settings("sqlite://", secret_key=key, payment_webhook_secret=None)
    assert "VOIPDESK_PAYMENT_WEBHOOK_SECRET" in secret_problems(missing)[0]
    same = make_settings("sqlite://", secret_key=key, payment_webhook_secret=key)
    assert "must differ" in secret_problems(same)[0]


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    import uvicorn

    from voipdesk.core.outbox import Worker

    calls: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(app))
    monkeypatch.setattr(cli, "upgrade", lambda engine: None)
    monkeypatch.setattr(cli, "load_demo", lambda platform: [], raising=False)
    monkeypatch.setattr(Worker, "start_thread", lambda self: calls.append("outbox"))
    monkeypatch.setattr(Worker, "stop", lambda self: None)
    for name in ("SECRET_KEY", "PAYMENT_PROVIDER", "PAYMENT_WEBHOOK_SECRET"):
        monkeypatch.delenv(f"VOIPDESK_{name}", raising=False)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_serve_refuses_the_default_secret_and_says_how_to_make_one(
    tmp_path: Path, no_serving: list[object]
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = CliRunner().invoke(cli.app, ["serve", "--database-url", url])
    assert result.exit_code == 2
    assert "VOIPDESK_SECRET_KEY is the built-in default" in result.output
    assert "voipdesk secret" in result.output
    assert no_serving == []  # nothing started
    worker = CliRunner().invoke(cli.app, ["worker", "--once", "--database-url", url])
    assert worker.exit_code == 2


def test_serve_starts_with_a_fresh_secret(
    tmp_path: Path, no_serving: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = CliRunner().invoke(cli.app, ["secret"])
    assert printed.exit_code == 0
    monkeypatch.setenv("VOIPDESK_SECRET_KEY", printed.output.strip())
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = CliRunner().invoke(cli.app, ["serve", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert no_serving[0] == "outbox"


def test_the_demo_pays_with_the_sandbox_and_its_own_webhook_secret() -> None:
    settings = make_settings("sqlite://", payment_provider=None, payment_webhook_secret=None)
    cli.demo_payments(settings)
    assert settings.payment_provider == "sandbox"
    assert settings.payment_webhook_secret and settings.payment_webhook_secret != (
        settings.secret_key
    )


# --- provider events checked against the payment -------------------------------------------------
def _pending_payment(api: ApiClient, customer: Account) -> tuple[dict, str]:
    order = api.post("/orders", customer, json=with_terms(CART)).json()
    pending = api.post(
        f"/orders/{order['id']}/payments",
        customer,
        json={"card": dict(CARD, number=TEST_CARD_NEEDS_CONFIRMATION)},
    ).json()
    return order, pending["confirmation_url"].rsplit("/", 1)[1]


def _event(reference: str, amount: str, currency: str = "EUR", event_id: str = "evt_1") -> bytes:
    data = {"reference": reference, "amount": amount, "currency": currency}
    return json.dumps({"id": event_id, "type": "payment.succeeded", "data": data}).encode()


def _post(api: ApiClient, body: bytes, secret: bytes):  # type: ignore[no-untyped-def]
    signature = sign(secret, body, int(api.platform.now().timestamp()))
    return api.post(
        "/payment-provider/sandbox/webhook", content=body, headers={SIGNATURE_HEADER: signature}
    )


def test_an_event_for_less_money_or_another_currency_settles_nothing(
    api: ApiClient, customer: Account
) -> None:
    order, reference = _pending_payment(api, customer)
    secret = webhook_secret(api.platform)
    problem(_post(api, _event(reference, "0.01"), secret), 422, "payment-event-mismatch")
    problem(_post(api, _event(reference, order["totals"]["incl_tax"]["amount"], "CHF"), secret),
            422, "payment-event-mismatch")  # fmt: skip
    problem(_post(api, _event(reference, "NaN"), secret), 422, "payment-event-mismatch")
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] == "not_paid"
    right = _post(api, _event(reference, order["totals"]["incl_tax"]["amount"]), secret)
    assert right.json() == {"received": True, "duplicate": False}
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] != "not_paid"


def test_an_event_signed_with_a_secret_derived_from_the_session_key_is_refused(
    api: ApiClient, customer: Account
) -> None:
    order, reference = _pending_payment(api, customer)
    derived = hmac.new(
        api.platform.settings.secret_key.encode(), b"sandbox-webhook-secret", hashlib.sha256
    ).digest()
    body = _event(reference, order["totals"]["incl_tax"]["amount"])
    problem(_post(api, body, derived), 400, "webhook-signature-invalid")
    problem(_post(api, body, api.platform.settings.secret_key.encode()), 400,
            "webhook-signature-invalid")  # fmt: skip
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] == "not_paid"


# --- the sandbox only when configured ------------------------------------------------------------
def test_without_a_configured_provider_the_sandbox_does_not_exist(
    database_url: str,
    clock,
    customer_factory,  # type: ignore[no-untyped-def]
) -> None:
    customer = customer_factory()
    settings = make_settings(database_url, payment_provider=None, payment_webhook_secret=None)
    platform = Platform(settings=settings, engine=make_engine(database_url), clock=clock)
    try:
        with api_client(platform) as api:
            order = api.post("/orders", customer, json=with_terms(CART)).json()
            problem(
                api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD}),
                503,
                "payment-provider-unavailable",
            )
            problem(api.post("/payment-provider/sandbox/webhook", content=b"{}"), 404, "not-found")
            problem(
                api.post("/payment-provider/sandbox/payments/sbx_ch_x/confirm",
                         json={"approve": True}),
                404,
                "not-found",
            )  # fmt: skip
            assert api.client.get("/sandbox-payments/sbx_ch_x").status_code == 404
            transfer = api.post(
                f"/orders/{order['id']}/payments", customer, json={"method": "bank_transfer"}
            )
            assert transfer.status_code in (201, 422), transfer.text  # no provider needed
            assert api.get(f"/orders/{order['id']}", customer).json()["state"] == "not_paid"
    finally:
        platform.engine.dispose()
