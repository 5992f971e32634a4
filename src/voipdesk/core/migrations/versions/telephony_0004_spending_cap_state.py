"""telephony: a billing group's spending cap state (read into the routing records)

Revision ID: telephony_0004
Revises: telephony_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "telephony_0004"
down_revision = "telephony_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telephony_spending_cap_state",
        sa.Column("billing_group_id", sa.String(length=32), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("updated_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("billing_group_id", name=op.f("pk_telephony_spending_cap_state")),
    )


def downgrade() -> None:
    op.drop_table("telephony_spending_cap_state")
