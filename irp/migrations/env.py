"""Alembic environment: run irp's migrations on the connection that `irp.db` opened."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Imported so that autogenerate compares against every irp table.
import models.inventory  # noqa: F401
import models.tracking  # noqa: F401

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("irp's migrations run on an open connection: use `irp db upgrade` or irp.db.upgrade_schema")

# Batch mode lets later revisions alter SQLite tables, which SQLite's ALTER TABLE cannot do in place.
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True, compare_type=True)

with context.begin_transaction():
    context.run_migrations()
