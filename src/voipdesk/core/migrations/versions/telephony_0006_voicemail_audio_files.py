"""telephony: voicemail audio kept as files, the rows naming them

Revision ID: telephony_0006
Revises: telephony_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "telephony_0006"
down_revision = "telephony_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telephony_voicemail_message") as batch_op:
        batch_op.add_column(sa.Column("audio_file", sa.String(80), nullable=True))
        batch_op.alter_column("audio", existing_type=sa.LargeBinary(), nullable=True)
    with op.batch_alter_table("telephony_voicemail") as batch_op:
        batch_op.add_column(sa.Column("greeting_file", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telephony_voicemail") as batch_op:
        batch_op.drop_column("greeting_file")
    with op.batch_alter_table("telephony_voicemail_message") as batch_op:
        batch_op.drop_column("audio_file")
