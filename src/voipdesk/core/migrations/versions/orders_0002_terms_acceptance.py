"""terms accepted on a purchase order (versions and time)

Revision ID: orders_0002_terms_acceptance
Revises: orders_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0002_terms_acceptance"
down_revision = "orders_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms_accepted", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.drop_column("terms_accepted")
