"""Outbox: an ordering key (messages with the same key are delivered one after the other)

Revision ID: core_0002
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox_message", sa.Column("ordering_key", sa.String(length=100)))
    op.create_index("ix_outbox_message_ordering_key", "outbox_message", ["ordering_key"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_ordering_key", table_name="outbox_message")
    op.drop_column("outbox_message", "ordering_key")
