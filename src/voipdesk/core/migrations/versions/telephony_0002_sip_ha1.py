"""SIP credentials: only the digest HA1 is kept, clear passwords are erased

Revision ID: telephony_0002
Revises: telephony_0001

Each existing clear password becomes md5("username:realm:password") with the realm of the SIP
domain setting (VOIPDESK_SIP_DOMAIN), then the clear column is dropped. Phones keep working with
the same password; it can no longer be read back.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "telephony_0002"
down_revision = "telephony_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from voipdesk.core.settings import get_settings

    realm = get_settings().sip_domain
    op.add_column("service", sa.Column("sip_ha1", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, sip_username, sip_password FROM service "
            "WHERE sip_password IS NOT NULL AND sip_username IS NOT NULL"
        )
    ).all()
    for service_id, username, password in rows:
        ha1 = hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()
        connection.execute(
            sa.text("UPDATE service SET sip_ha1 = :ha1, sip_password = NULL WHERE id = :id"),
            {"ha1": ha1, "id": service_id},
        )
    # A plain ALTER (SQLite 3.35+ and PostgreSQL): no copy of the service table.
    op.execute("ALTER TABLE service DROP COLUMN sip_password")


def downgrade() -> None:
    # The clear passwords are gone for good: a downgrade leaves lines without one.
    op.add_column("service", sa.Column("sip_password", sa.String(length=60), nullable=True))
    op.execute("ALTER TABLE service DROP COLUMN sip_ha1")
