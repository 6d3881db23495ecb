"""The migrations build exactly the schema the table models declare, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.knowledge.retrieval import KnowledgeBase
from storage.database import MigrationFailed, create_engine, upgrade
from storage.knowledge import KnowledgeStore
from storage.knowledge_tables import search_machinery
from storage.tables import SQLModel
from tests.conftest import PG_URL, Database
from tests.imports import modules_after


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    db = database.engine()

    def differences(connection: Any) -> list[Any]:
        opts = {"compare_type": False, "include_name": lambda *a: not search_machinery(*a)}
        context = MigrationContext.configure(connection, opts=opts)
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
    code = (
        "import asyncio\n"
        "from storage.database import create_engine, upgrade\n"
        f"asyncio.run(upgrade(create_engine({sqlite_db.url!r})))"
    )
    assert "alembic" not in modules_after(code)


def test_a_bot_on_sqlite_never_imports_the_postgresql_dialect(sqlite_db: Database) -> None:
    """2.2 MB of code a SQLite process has no use for (a `postgresql_*` option on a table
    model, or an import in storage, would load it)."""
    code = (
        "import asyncio\n"
        "import adapters.composition, adapters.services\n"
        "from storage.database import create_engine, upgrade\n"
        f"asyncio.run(upgrade(create_engine({sqlite_db.url!r})))"
    )
    loaded = modules_after(code)
    assert not {m for m in loaded if m.startswith("sqlalchemy.dialects.postgresql")}


async def test_a_sqlite_ledger_of_30000_calls_upgrades_from_0004_in_one_go(
    tmp_path: Path,
) -> None:
    """Migration 0006 rebuilds `calls` (SQLite batch mode). With foreign keys enforced, the drop
    of the old table checked every row's children, time quadratic in the rows: this ledger took
    ~2.5 min and 1M calls never finished. Off during the migration (SQLite's own procedure),
    checked after, on again; the rows, and the references into them, survive."""
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine, "0004")
        rows = 30_000
        with sqlite3.connect(path) as db:
            db.execute("INSERT INTO threads (id, key, platform, workspace, channel, external_id,"
                       " created_at) VALUES (1, 'k', 'slack', 'W1', 'C1', 't1',"
                       " '2026-11-01 00:00:00.000000')")  # fmt: skip
            db.execute("INSERT INTO messages (id, thread_id, role, text, author, created_at)"
                       " VALUES (1, 1, 'user', 'q', '', '2026-11-01 00:00:00.000000')")  # fmt: skip
            db.executemany(
                'INSERT INTO calls (thread_id, message_id, platform, workspace, channel, "user",'
                " purpose, strategy, reasons, model_asked, cost_source, status, attempt,"
                " escalation, created_at) VALUES (1, 1, 'slack', 'W1', 'C1', 'U1', 'answer',"
                " 'fixed', '', 'm', 'reported', 'ok', 1, 0, ?)",
                ((f"2026-11-{1 + n % 28:02d} 10:00:00.000000",) for n in range(rows)),
            )
            db.execute("INSERT INTO posts (platform, external_id, call_id, created_at) VALUES "
                       "('slack', 'p1', 12345, '2026-11-01 00:00:00.000000')")  # fmt: skip
        await asyncio.wait_for(upgrade(engine), 60)  # ~1 s now
        async with engine.connect() as conn:
            assert await conn.scalar(sa.text("SELECT count(*) FROM calls")) == rows
            assert await conn.scalar(sa.text("SELECT calls FROM channel_hours LIMIT 1")) > 0
            assert await conn.scalar(sa.text("PRAGMA foreign_keys")) == 1  # enforced again
            assert not (await conn.execute(sa.text("PRAGMA foreign_key_check"))).all()
            bad_post = ("INSERT INTO posts (platform, external_id, call_id, created_at)"
                        " VALUES ('slack', 'p2', 999999, '')")  # fmt: skip
            with pytest.raises(sa.exc.IntegrityError):
                await conn.execute(sa.text(bad_post))
    finally:
        await engine.dispose()


async def test_an_upgrade_that_would_leave_dangling_references_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine, "0004")
        with sqlite3.connect(path) as db:  # foreign keys not enforced on a plain connection
            db.execute("INSERT INTO posts (platform, external_id, call_id, created_at) VALUES "
                       "('slack', 'p1', 12345, '2026-11-01 00:00:00.000000')")  # fmt: skip
        with pytest.raises(MigrationFailed, match="row 1 of posts to a missing row of calls"):
            await upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0004"
            assert await conn.scalar(sa.text("PRAGMA foreign_keys")) == 1
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def unmigrated(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_schema: str | None
) -> AsyncIterator[Database]:
    """An empty database of its own (a fresh schema on PostgreSQL), to migrate step by step."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", None)
        return
    if postgres_schema is None:
        pytest.skip("PostgreSQL not configured (set SWITCHBOARD_TEST_POSTGRES_URL)")
    schema = f"old_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield Database("postgres", PG_URL, schema)
    finally:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def test_passages_indexed_before_postings_get_theirs_and_are_found(
    unmigrated: Database,
) -> None:
    """0014 replaces the full-text index with postings: the passages already indexed are
    weighed by the upgrade, and found by the same search as new ones."""
    engine = unmigrated.engine()
    try:
        await upgrade(engine, "0013")
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO kb_documents (id, collection, path, name, title, content_hash, "
                "passages, terms, updated_at) VALUES (7, 'default', 'billing.md', 'billing.md', "
                "'Billing', 'h', 2, 'billing vat refunds', '2026-12-01 00:00:00')"
            ))  # fmt: skip
            await conn.execute(sa.text(
                "INSERT INTO kb_passages (document_id, position, title, headings, anchor, body, "
                "body_hash, stems) VALUES (7, 0, 'Billing', 'Change your VAT ID', '', "
                "'Edit the VAT number on invoices.', 'a', ''), (7, 1, 'Billing', 'Refunds', "
                "'', 'Annual plans are refunded pro rata.', 'b', '')"
            ))  # fmt: skip
        await upgrade(engine)
        store = KnowledgeStore(engine)
        try:
            found = await KnowledgeBase(store).search("refund for an annual plan")
            assert found.passages[0].section == "Billing › Refunds"
            assert (
                (await KnowledgeBase(store).search("vat number"))
                .passages[0]
                .text.startswith("Edit the VAT")
            )
        finally:
            await store.close()
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            assert "kb_passages_fts" not in tables  # the full-text index went
            columns = await conn.run_sync(lambda c: sa.inspect(c).get_columns("kb_passages"))
            assert "search" not in {c["name"] for c in columns}
    finally:
        await engine.dispose()
