"""The migrations build exactly the schema the table models declare, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.tables import SQLModel
from tests.conftest import Database


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    db = database.engine()

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        found = compare_metadata(context, SQLModel.metadata)
        return [d for d in found if not (isinstance(d, tuple) and d[0] == "remove_table"
                                          and d[1].name == "alembic_version")]  # fmt: skip

    try:
        async with db.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await db.dispose()
