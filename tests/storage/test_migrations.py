"""The migrations build exactly the schema the table models declare, on both databases."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
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


async def test_start_up_skips_alembic_only_when_the_database_is_at_the_heads(
    sqlite_db: Database,
) -> None:
    from alembic.script import ScriptDirectory

    from storage.database import alembic_config
    from storage.migration_heads import at_heads, heads

    script = ScriptDirectory.from_config(alembic_config())
    assert heads() == set(script.get_heads())
    [head] = script.get_heads()  # one line of history: no branches left unmerged
    previous = script.get_revision(head).down_revision
    db = sqlite_db.engine()
    try:
        async with db.connect() as conn:
            assert await conn.run_sync(at_heads)  # the fixture's database is migrated
        async with db.begin() as conn:  # as if a newer release brought a migration
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = :previous"),
                               {"previous": previous})  # fmt: skip
        async with db.connect() as conn:
            assert not await conn.run_sync(at_heads)
    finally:
        await db.dispose()


def test_a_migrated_database_starts_without_importing_alembic(sqlite_db: Database) -> None:
    import subprocess
    import sys

    code = (
        "import asyncio, sys\n"
        "from storage.database import create_engine, upgrade\n"
        f"asyncio.run(upgrade(create_engine({sqlite_db.url!r})))\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
