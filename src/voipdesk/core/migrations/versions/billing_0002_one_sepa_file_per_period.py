"""one SEPA file per renewal period and collection date

Revision ID: billing_0002
Revises: billing_0001
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "billing_0002"
down_revision = "billing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_sepa_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
    # Files made before: their period is the month of their collection date.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, collection_date FROM billing_sepa_file")).all()
    for file_id, collection_date in rows:
        day = date.fromisoformat(str(collection_date)[:10])  # SQLite gives dates back as text
        bind.execute(
            sa.text("UPDATE billing_sepa_file SET period_start = :p WHERE id = :id"),
            {"p": day.replace(day=1), "id": file_id},
        )
    with op.batch_alter_table("billing_sepa_file", schema=None) as batch_op:
        batch_op.alter_column("period_start", existing_type=sa.Date(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_billing_sepa_file_period_start_collection_date"),
            ["period_start", "collection_date"],
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_sepa_file", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_billing_sepa_file_period_start_collection_date"), type_="unique"
        )
        batch_op.drop_column("period_start")
