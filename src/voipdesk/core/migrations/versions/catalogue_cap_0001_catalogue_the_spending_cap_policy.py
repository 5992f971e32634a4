"""catalogue: the spending cap policy (defaults and limits, effective-dated)

Revision ID: catalogue_cap_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "catalogue_cap_0001"
down_revision = None
branch_labels = ("catalogue_cap",)
depends_on = "catalogue_0001"


def upgrade() -> None:
    op.create_table(
        "catalogue_spending_cap",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column(
            "default_amount", voipdesk.core.db.DecimalAmount(precision=18, scale=4), nullable=False
        ),
        sa.Column("maximum", voipdesk.core.db.DecimalAmount(precision=18, scale=4), nullable=False),
        sa.Column(
            "new_customer_default",
            voipdesk.core.db.DecimalAmount(precision=18, scale=4),
            nullable=False,
        ),
        sa.Column(
            "new_customer_maximum",
            voipdesk.core.db.DecimalAmount(precision=18, scale=4),
            nullable=False,
        ),
        sa.Column("minimum", voipdesk.core.db.DecimalAmount(precision=18, scale=4), nullable=False),
        sa.Column("new_customer_days", sa.Integer(), nullable=False),
        sa.Column("created_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_spending_cap")),
        sa.UniqueConstraint("valid_from", name=op.f("uq_catalogue_spending_cap_valid_from")),
    )


def downgrade() -> None:
    op.drop_table("catalogue_spending_cap")
