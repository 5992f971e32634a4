"""telephony tables

Revision ID: telephony_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voipdesk.core.db

revision = "telephony_0001"
down_revision = None
branch_labels = ("telephony",)
depends_on = "subscriptions_0002"


def upgrade() -> None:
    op.create_table(
        "telephony_line_settings",
        sa.Column("service_id", sa.String(length=32), nullable=False),
        sa.Column("billing_group_id", sa.String(length=32), nullable=False),
        sa.Column("forwards", sa.JSON(), nullable=False),
        sa.Column("do_not_disturb", sa.Boolean(), nullable=False),
        sa.Column("reject_anonymous", sa.Boolean(), nullable=False),
        sa.Column("caller_id", sa.String(length=10), nullable=False),
        sa.Column("caller_id_number", sa.String(length=20), nullable=True),
        sa.Column("block_outgoing", sa.Boolean(), nullable=False),
        sa.Column("block_international", sa.Boolean(), nullable=False),
        sa.Column("block_premium", sa.Boolean(), nullable=False),
        sa.Column("number_list_mode", sa.String(length=10), nullable=False),
        sa.Column("number_list", sa.JSON(), nullable=False),
        sa.Column("allowed_ips", sa.JSON(), nullable=False),
        sa.Column("updated_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_telephony_line_settings")),
    )
    op.create_index(
        op.f("ix_telephony_line_settings_billing_group_id"),
        "telephony_line_settings",
        ["billing_group_id"],
    )
    op.create_table(
        "telephony_voicemail",
        sa.Column("service_id", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("greeting", sa.String(length=10), nullable=False),
        sa.Column("greeting_name", sa.String(length=80), nullable=True),
        sa.Column("greeting_audio", sa.LargeBinary(), nullable=True),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("email_notification", sa.String(length=20), nullable=False),
        sa.Column("delete_after_email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_telephony_voicemail")),
    )
    op.create_table(
        "telephony_voicemail_message",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.String(length=32), nullable=False),
        sa.Column("caller", sa.String(length=40), nullable=True),
        sa.Column("received_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("read_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_voicemail_message")),
    )
    op.create_index(
        "ix_telephony_voicemail_message_line",
        "telephony_voicemail_message",
        ["service_id", "received_at"],
    )
    op.create_table(
        "telephony_routing_record",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("sip_username", sa.String(length=60), nullable=True),
        sa.Column("service_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("updated_at", voipdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_telephony_routing_record")),
        sa.UniqueConstraint("sip_username", name=op.f("uq_telephony_routing_record_sip_username")),
    )
    op.create_index(
        op.f("ix_telephony_routing_record_service_id"),
        "telephony_routing_record",
        ["service_id"],
    )


def downgrade() -> None:
    op.drop_table("telephony_routing_record")
    op.drop_table("telephony_voicemail_message")
    op.drop_table("telephony_voicemail")
    op.drop_table("telephony_line_settings")
