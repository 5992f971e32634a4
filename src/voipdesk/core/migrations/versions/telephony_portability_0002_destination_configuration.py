"""telephony: a portability may take its numbers to an alias number configuration of the group

Revision ID: telephony_portability_0002
Revises: telephony_portability_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "telephony_portability_0002"
down_revision = "telephony_portability_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telephony_portability") as batch:
        batch.add_column(sa.Column("destination_configuration", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telephony_portability") as batch:
        batch.drop_column("destination_configuration")
