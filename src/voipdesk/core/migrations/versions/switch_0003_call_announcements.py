"""switch: call records announced as events

Revision ID: switch_0003
Revises: switch_0002

Records already stored count as announced (no flood of old events on upgrade).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "switch_0003"
down_revision = "switch_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("switch_call_record") as batch_op:
        batch_op.add_column(
            sa.Column("announced_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE switch_call_record SET announced_at = started_at")
    op.create_index(
        "ix_switch_call_record_unannounced", "switch_call_record", ["announced_at", "ended_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_switch_call_record_unannounced", table_name="switch_call_record")
    with op.batch_alter_table("switch_call_record") as batch_op:
        batch_op.drop_column("announced_at")
