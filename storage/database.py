"""Async engine creation, SQLite tuning, and Alembic migrations applied in-process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

T = TypeVar("T")
CHECKPOINT_EVERY = 200  # transactions between WAL checkpoints (a few hundred pages)
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x5357_4D49  # any fixed bigint; "SWMI"


def create_engine(url: str, *, search_path: str | None = None) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys on every connection.

    `search_path` (PostgreSQL) puts every table in one schema: tests use a schema each.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"server_settings": {"search_path": search_path}} if search_path else {}
    return create_async_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args=connect_args
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Apply migrations up to `revision` (idempotent; run at every start-up)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_sync, revision)


def _upgrade_sync(connection: sa.Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Replicas starting together: one migrates, the others wait and then find nothing to do.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def insert_ignore(
    connection: AsyncConnection, table: sa.Table, values: dict[str, Any]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call inserted the row."""
    dialect = connection.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await connection.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


class TransactionRunner:
    """Runs a synchronous transaction body against the engine's database.

    PostgreSQL: through the async engine (`run_sync`, asyncpg underneath). SQLite: in one
    worker-thread hop on a synchronous twin engine. aiosqlite hops to its thread several times
    per statement, so a three-statement transaction costs a dozen thread switches there; here it
    costs one, which is most of an answer's database time.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._twin: sa.Engine | None = None
        self._writes = 0
        self._checkpointer: ThreadPoolExecutor | None = None
        # An in-memory database exists once per connection: a twin would see another database.
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._twin = sa.create_engine(
                engine.url.set(drivername="sqlite"),
                connect_args={"timeout": 30, "check_same_thread": False},
            )
            event.listen(self._twin, "connect", _sqlite_pragmas)
            event.listen(self._twin, "connect", _no_autocheckpoint)
            self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")

    async def run(self, body: Callable[[sa.Connection], T]) -> T:
        if self._twin is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(body)
        return await asyncio.to_thread(self._run_twin, body)

    def _run_twin(self, body: Callable[[sa.Connection], T]) -> T:
        assert self._twin is not None and self._checkpointer is not None
        with self._twin.begin() as conn:
            result = body(conn)
        self._writes += 1
        if self._writes % CHECKPOINT_EVERY == 0:
            self._checkpointer.submit(self._checkpoint)
        return result

    def _checkpoint(self) -> None:
        """Fold the WAL into the database file off the answer path (it fsyncs: ~10 ms)."""
        assert self._twin is not None
        try:
            with self._twin.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except sa.exc.SQLAlchemyError:
            log.warning("SQLite WAL checkpoint failed; the next one will retry", exc_info=True)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.shutdown(wait=True)
        if self._twin is not None:
            self._twin.dispose()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    # Commits on the answer path never checkpoint (that is a ~10 ms fsync every ~1,000 pages,
    # the whole p99 tail); TransactionRunner checkpoints in its own thread instead.
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
