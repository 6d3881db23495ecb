"""Alembic environment: migrations run on the connection handed in by storage.database."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Both register their tables on SQLModel.metadata.
import storage.knowledge_tables
import storage.tables  # noqa: F401

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `switchboard db upgrade`")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
