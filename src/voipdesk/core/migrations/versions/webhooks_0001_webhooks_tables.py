"""webhooks tables

Revision ID: webhooks_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "webhooks_0001"
down_revision = None
branch_labels = ("webhooks",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_message",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("source_event_id", sa.String(length=250), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_event_id"),
    )
    op.create_index("ix_webhook_message_event_type", "webhook_message", ["event_type"])
    op.create_index("ix_webhook_message_created_at", "webhook_message", ["created_at"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_in_a_row", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoint.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["webhook_message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "message_id"),
    )
    op.create_index("ix_webhook_delivery_endpoint_id", "webhook_delivery", ["endpoint_id"])
    op.create_index("ix_webhook_delivery_message_id", "webhook_delivery", ["message_id"])
    op.create_index("ix_webhook_delivery_state", "webhook_delivery", ["state"])
    op.create_index("ix_webhook_delivery_created_at", "webhook_delivery", ["created_at"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_delivery.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_attempt_delivery_id", "webhook_attempt", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_message")
    op.drop_table("webhook_endpoint")
