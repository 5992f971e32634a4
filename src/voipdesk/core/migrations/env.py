"""Alembic environment: runs on the connection handed in by `voipdesk.core.migrate`."""

from __future__ import annotations

from alembic import context

from voipdesk.areas import load_models
from voipdesk.core.db import Base

load_models()
target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through voipdesk.core.migrate (voipdesk db upgrade)")

# A new revision may be limited to one area's tables (scripts/new_migration.py --tables ...).
only_tables = context.config.attributes.get("only_tables")


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if not only_tables:
        return True
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in only_tables


context.configure(
    connection=connection,
    target_metadata=target_metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
