"""subscriptions: partial indexes of the service table for the renewal's selective questions

Manual renewals, suspended services and services cancelled at expiry are a few percent of the
table: the renewal looked them up by reading every service. The indexes name neither
`expiry_on` nor anything else the monthly update of every row writes, so that update stays in
place (HOT) on PostgreSQL; only the rare changes of `state` leave their page.

Revision ID: subscriptions_renewal_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "subscriptions_renewal_0001"
down_revision = None
branch_labels = ("subscriptions_renewal",)
depends_on = "subscriptions_0002"

# name: (columns, predicate); the same in subscriptions.models.Service
INDEXES = {
    "ix_service_manual_renewal": (["state"], "renewal_mode = 'manual'"),
    "ix_service_suspended": (["state"], "state = 'suspended'"),
    "ix_service_cancel_at_expiry": (["state"], "cancel_at_expiry"),
}


def upgrade() -> None:
    for name, (columns, where) in INDEXES.items():
        op.create_index(
            name,
            "service",
            columns,
            unique=False,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="service")
