"""telephony: registrations reported by the switch

Revision ID: telephony_0003
Revises: telephony_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "telephony_0003"
down_revision = "telephony_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telephony_registration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("sip_username", sa.String(length=60), nullable=False),
        sa.Column("registered_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=5), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_registration")),
    )
    op.create_index(
        "ix_telephony_registration_line",
        "telephony_registration",
        ["number", "registered_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_telephony_registration_line", table_name="telephony_registration")
    op.drop_table("telephony_registration")
