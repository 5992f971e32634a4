"""invoice payments (card, one-off direct debit, bank transfer, retries)

Revision ID: billing_0003
Revises: billing_0002 (one SEPA file per period)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "billing_0003"
down_revision = "billing_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_invoice_payment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("invoice_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("method_type", sa.String(length=20), nullable=False),
        sa.Column("payment_method_id", sa.String(length=32), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("provider_reference", sa.String(length=100), nullable=True),
        sa.Column("confirmation_url", sa.String(length=300), nullable=True),
        sa.Column("transfer_reference", sa.String(length=40), nullable=True),
        sa.Column("failure_code", sa.String(length=60), nullable=True),
        sa.Column("created_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_billing_invoice_payment_invoice_id_invoice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_invoice_payment")),
        sa.UniqueConstraint(
            "provider_reference", name=op.f("uq_billing_invoice_payment_provider_reference")
        ),
    )
    with op.batch_alter_table("billing_invoice_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_invoice_payment_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_invoice_payment_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_invoice_payment_state"), ["state"], unique=False
        )


def downgrade() -> None:
    op.drop_table("billing_invoice_payment")
