"""switch: routing-change notices (PostgreSQL) and security events

Revision ID: switch_0002
Revises: switch_0001

On PostgreSQL a trigger tells the switch's workers which number's routing record changed
(NOTIFY voipdesk_routing, payload the number), so their caches stay current without a query per
call. SQLite needs none: the switch reads it on every call.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "switch_0002"
down_revision = "switch_0001"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION voipdesk_routing_notify() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('voipdesk_routing', OLD.number);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('voipdesk_routing', NEW.number);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
_TRIGGER = """
CREATE TRIGGER telephony_routing_record_notify
AFTER INSERT OR UPDATE OR DELETE ON telephony_routing_record
FOR EACH ROW EXECUTE FUNCTION voipdesk_routing_notify()
"""


def upgrade() -> None:
    op.create_table(
        "switch_security_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("sip_username", sa.String(length=60), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_switch_security_event")),
    )
    op.create_index("ix_switch_security_event_at", "switch_security_event", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS telephony_routing_record_notify ON telephony_routing_record"
        )
        op.execute("DROP FUNCTION IF EXISTS voipdesk_routing_notify()")
    op.drop_index("ix_switch_security_event_at", table_name="switch_security_event")
    op.drop_table("switch_security_event")
