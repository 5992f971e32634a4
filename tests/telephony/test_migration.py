"""The migration to HA1: each clear SIP password becomes md5(user:realm:password) and the clear
column is gone; the phone keeps working with the same password."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect, text

from voipdesk.areas import load_models
from voipdesk.core.migrate import alembic_config
from voipdesk.core.settings import get_settings
from voipdesk.subscriptions.rules import digest_ha1


def _upgrade(engine, target: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_clear_passwords_become_ha1_and_are_erased(tmp_path: Path) -> None:
    load_models()
    # A plain engine: SQLite does not check foreign keys, so a lone service row is enough here.
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    _upgrade(engine, "telephony_0001")
    assert "sip_password" in {c["name"] for c in inspect(engine).get_columns("service")}
    with engine.begin() as connection:
        connection.execute(
            text(
                """INSERT INTO service (id, billing_group_id, account_id, kind, number_e164,
                       offer_code, simultaneous_calls, outgoing_calls, monthly_price_e4,
                       tax_country, renewal_mode, state, expiry_on, cancel_at_expiry,
                       sip_username, sip_password, created_at)
                   VALUES ('s1', 'g1', 'a1', 'sip_line', '+33412345678', 'sip-entreprise', 2, 1,
                       50000, 'FR', 'automatic', 'active', '2026-03-31', 0, '33412345678',
                       'Old-Clear-Password-1', '2026-03-01 09:00:00.000000')"""
            )
        )
    _upgrade(engine, "heads")
    assert "sip_password" not in {c["name"] for c in inspect(engine).get_columns("service")}
    with engine.connect() as connection:
        ha1 = connection.execute(text("SELECT sip_ha1 FROM service WHERE id = 's1'")).scalar()
        dump = "\n".join(line for line in connection.connection.iterdump())
    assert ha1 == digest_ha1("33412345678", get_settings().sip_domain, "Old-Clear-Password-1")
    assert "Old-Clear-Password-1" not in dump
    engine.dispose()
