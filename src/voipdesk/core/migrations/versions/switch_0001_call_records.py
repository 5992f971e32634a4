"""switch: call records

Revision ID: switch_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "switch_0001"
down_revision = None
branch_labels = ("switch",)
depends_on = "telephony_0003"


def upgrade() -> None:
    op.create_table(
        "switch_call_record",
        sa.Column("call_key", sa.String(length=200), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("callee", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("line_number", sa.String(length=20), nullable=True),
        sa.Column("billing_group_id", sa.String(length=32), nullable=True),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("started_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=12), nullable=False),
        sa.Column("sip_code", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("call_key", name=op.f("pk_switch_call_record")),
    )
    op.create_index(
        "ix_switch_call_record_line", "switch_call_record", ["line_number", "started_at"]
    )
    op.create_index(
        "ix_switch_call_record_group", "switch_call_record", ["billing_group_id", "started_at"]
    )
    op.create_table(
        "switch_active_call",
        sa.Column("call_key", sa.String(length=200), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("callee", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("line_number", sa.String(length=20), nullable=True),
        sa.Column("started_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("call_key", name=op.f("pk_switch_active_call")),
    )
    op.create_index("ix_switch_active_call_line", "switch_active_call", ["line_number"])


def downgrade() -> None:
    op.drop_index("ix_switch_active_call_line", table_name="switch_active_call")
    op.drop_table("switch_active_call")
    op.drop_index("ix_switch_call_record_group", table_name="switch_call_record")
    op.drop_index("ix_switch_call_record_line", table_name="switch_call_record")
    op.drop_table("switch_call_record")
