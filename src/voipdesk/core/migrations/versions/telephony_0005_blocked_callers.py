"""telephony: callers a line refuses

Revision ID: telephony_0005
Revises: telephony_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "telephony_0005"
down_revision = "telephony_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telephony_line_settings") as batch_op:
        batch_op.add_column(sa.Column("blocked_callers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telephony_line_settings") as batch_op:
        batch_op.drop_column("blocked_callers")
