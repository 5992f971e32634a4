"""consumption: rate tables, rated calls, spending caps, statements and adjustments

Revision ID: consumption_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "consumption_0001"
down_revision = None
branch_labels = ("consumption",)
depends_on = ("switch_0001", "telephony_0004")

AMOUNT = voipdesk.core.db.DecimalAmount()
INSTANT = voipdesk.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consumption_rate",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan", sa.String(length=60), nullable=False),
        sa.Column("destination", sa.String(length=40), nullable=False),
        sa.Column("per_minute", AMOUNT, nullable=False),
        sa.Column("connection_fee", AMOUNT, nullable=False),
        sa.Column("first_increment", sa.Integer(), nullable=False),
        sa.Column("next_increment", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("updated_by", sa.String(length=60), nullable=True),
        sa.CheckConstraint(
            "first_increment >= 1 AND next_increment >= 1",
            name=op.f("ck_consumption_rate_increments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumption_rate")),
        sa.UniqueConstraint(
            "plan",
            "destination",
            "valid_from",
            name=op.f("uq_consumption_rate_plan_destination_valid_from"),
        ),
    )
    op.create_table(
        "consumption_inclusion",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("destinations", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumption_inclusion")),
        sa.UniqueConstraint(
            "plan", "name", "valid_from", name=op.f("uq_consumption_inclusion_plan_name_valid_from")
        ),
    )
    op.create_table(
        "consumption_rated_call",
        sa.Column("call_key", sa.String(length=200), nullable=False),
        sa.Column("billing_group_id", sa.String(length=32), nullable=True),
        sa.Column("line_number", sa.String(length=20), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("destination", sa.String(length=40), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("included_seconds", sa.Integer(), nullable=False),
        sa.Column("price_e4", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("call_key", name=op.f("pk_consumption_rated_call")),
    )
    op.create_index(
        "ix_consumption_rated_call_line",
        "consumption_rated_call",
        ["line_number", "month", "started_at"],
    )
    op.create_index(
        "ix_consumption_rated_call_group", "consumption_rated_call", ["billing_group_id", "month"]
    )
    op.create_table(
        "consumption_spending_cap",
        sa.Column("billing_group_id", sa.String(length=32), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.Column("updated_by", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("billing_group_id", name=op.f("pk_consumption_spending_cap")),
    )
    op.create_table(
        "consumption_cap_month",
        sa.Column("billing_group_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("spent_e4", sa.BigInteger(), nullable=False),
        sa.Column("warned", sa.JSON(), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("billing_group_id", "month", name=op.f("pk_consumption_cap_month")),
    )
    op.create_table(
        "consumption_statement",
        sa.Column("billing_group_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.Column("total_e4", sa.BigInteger(), nullable=False),
        sa.Column("beyond_plan_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("invoiced_period", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("billing_group_id", "month", name=op.f("pk_consumption_statement")),
    )
    op.create_table(
        "consumption_adjustment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("billing_group_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("difference_cents", sa.BigInteger(), nullable=False),
        sa.Column("explanation", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("invoiced_period", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumption_adjustment")),
    )
    op.create_index(
        "ix_consumption_adjustment_open",
        "consumption_adjustment",
        ["billing_group_id", "invoiced_period"],
    )


def downgrade() -> None:
    for table in (
        "consumption_adjustment",
        "consumption_statement",
        "consumption_cap_month",
        "consumption_spending_cap",
        "consumption_rated_call",
        "consumption_inclusion",
        "consumption_rate",
    ):
        op.drop_table(table)
