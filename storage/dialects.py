"""INSERT ... ON CONFLICT in the database's own dialect.

SQLAlchemy's PostgreSQL dialect is ~3 MB of imported code (bench/rss_imports.py): a process on
SQLite never imports it, one on PostgreSQL has it loaded by its engine anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


def insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """`INSERT INTO table` with `on_conflict_do_nothing` / `on_conflict_do_update`, for the
    dialect named `dialect` ("postgresql", else SQLite)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
