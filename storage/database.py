"""Async engine creation, SQLite tuning, and Alembic migrations applied in-process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage import dialects
from storage.checkpoints import WAL_AUTOCHECKPOINT, Checkpointer
from storage.migration_heads import at_heads
from storage.totals_ddl import ensure_triggers, triggers_present

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x5357_4D49  # any fixed bigint; "SWMI"
DEFAULT_DEADLINE_S = 10.0  # one short transaction's, unless told otherwise (DATABASE_WAIT_S)
IDLE_PING_S = 1.0  # a PostgreSQL connection idle longer than this is tested before use


def create_engine(
    url: str,
    *,
    search_path: str | None = None,
    durable: bool = True,
    idle_ping_s: float = IDLE_PING_S,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys on every connection.

    `search_path` (PostgreSQL) puts every table in one schema: tests use a schema each.
    `durable=False` (PostgreSQL; tests): a commit returns before its WAL is on disk
    (synchronous_commit=off, 0.2 ms instead of 3-6 ms here). Other connections see the same
    rows at the same moments; only a crash of the server itself could lose the last commits.
    `idle_ping_s` (PostgreSQL): a pooled connection idle longer than this is tested before use.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One writer at a time is all SQLite allows, so a few connections serve any load; each
        # extra one only adds its own page cache (memory that grows with the database). No
        # rollback when a connection goes back to the pool: every transaction here ends in a
        # commit or a rollback of its own, and on aiosqlite the redundant rollback is one more
        # worker-thread round trip per transaction.
        engine = create_async_engine(
            url,
            pool_size=5,
            max_overflow=0,
            pool_timeout=5,
            connect_args={"timeout": 30},
            pool_reset_on_return=None,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    settings = {"search_path": search_path} if search_path else {}
    if not durable:
        settings["synchronous_commit"] = "off"
    connect_args = {"server_settings": settings} if settings else {}
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_timeout=5,  # a question waits DATABASE_WAIT_S in short tries, not one long one
        connect_args=connect_args,
    )
    _ping_when_idle(engine.sync_engine, idle_ping_s)
    return engine


def _ping_when_idle(engine: sa.Engine, idle_s: float) -> None:
    """Test a pooled connection before use when it sat idle past `idle_s`; a dead one is
    replaced (the pool's own `pool_pre_ping` tests every checkout: with asyncpg three round
    trips, BEGIN, `;` and ROLLBACK, for each of a message's four short transactions). A
    connection used within the last second that died since fails its statement instead:
    `DatabaseUnavailable`, retried like any outage (the writes by the spool)."""

    @event.listens_for(engine, "checkin")
    def _idle(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since <= idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool replaces it (and tries a new one) on this
            raise sa.exc.DisconnectionError(str(error)) from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A commit copies the log back itself only past this bound: a bot's `Transactions` has a
    # thread that does it in the background (storage/checkpoints.py).
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    # 512 KiB of page cache per connection (SQLite's default is 2 MiB): the OS caches the file
    # anyway, and a bot's memory then stays flat as its database grows (bench/bench_memory.py).
    cursor.execute("PRAGMA cache_size=-512")
    cursor.close()


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Apply migrations up to `revision` (idempotent; run at every start-up)."""
    if revision == "heads":
        async with engine.connect() as connection:
            if await connection.run_sync(_current):
                return  # nothing to do, and Alembic is never imported (storage.migration_heads)
    async with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            async with connection.begin():
                await connection.run_sync(_upgrade_sync, revision)
            return
        # SQLite's batch mode rebuilds a table by copy, drop and rename. With foreign keys
        # enforced, the drop is an implicit DELETE that looks up every row's children: time
        # quadratic in the rows (40,000 calls: 255 s). SQLite's own procedure for this turns
        # them off first (outside a transaction, or the PRAGMA is ignored), checks after.
        await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await connection.commit()
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade_sync, revision)
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:  # rows pointing at rows that are not there (the upgrade rolls back)
                    table, rowid, parent = tuple(broken[0])[:3]
                    raise MigrationFailed(
                        f"{len(broken)} row(s) refer to rows that do not exist, e.g. row "
                        f"{rowid} of {table} to a missing row of {parent}"
                    )
        finally:
            await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            await connection.commit()


def _current(connection: sa.Connection) -> bool:
    return at_heads(connection) and triggers_present(connection)


def _upgrade_sync(connection: sa.Connection, revision: str) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        # Replicas starting together: one migrates, the others wait and then find nothing to do.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    if ensure_triggers(connection):
        log.warning("the ledger totals' triggers were missing (a migration rebuilt `calls`); "
                    "put back")  # fmt: skip


async def insert_ignore(
    connection: AsyncConnection, table: sa.Table, values: dict[str, Any]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call inserted the row."""
    insert = dialects.insert(connection.dialect.name, table)
    result = await connection.execute(insert.values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


class MigrationFailed(Exception):
    """A migration could not be applied to this database's data; nothing was changed."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now (refused, dropped, locked, or no pooled
    connection free in time). Worth retrying later; nothing about the data is wrong."""


def unavailable(error: BaseException) -> bool:
    """True for errors that mean "the database is not there right now"."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        sa.exc.OperationalError  # refused, locked (SQLite), server gone
        | sa.exc.InterfaceError  # connection closed under us
        | sa.exc.TimeoutError  # the pool had no connection to give in time
        | OSError  # connect() refused or reset before SQLAlchemy wrapped it
        | TimeoutError,
    )


_abandoned: set[asyncio.Future[Any]] = set()  # work given up on, still cleaning up


async def within(seconds: float, work: Awaitable[T]) -> T:
    """`work`'s result, or `DatabaseUnavailable` after `seconds`: a stalled database (its
    processes stopped, a storage hiccup) accepts connections and never answers, so waiting
    for it needs a deadline of its own. The work is cancelled in the background: cleaning up
    a stalled connection can itself take seconds, and the caller has a user to answer."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, seconds))
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        _abandoned.add(task)
        task.add_done_callback(_forget)
        raise DatabaseUnavailable(f"no answer from the database within {seconds:g} s")
    return task.result()


def _forget(task: asyncio.Future[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a late failure of abandoned work is expected


async def run_transaction(
    engine: AsyncEngine, body: Callable[[sa.Connection], T], *, one_statement: bool = False
) -> T:
    """One short transaction whose body is plain synchronous SQLAlchemy; an outage is raised
    as `DatabaseUnavailable`. `one_statement`: the body runs a single statement, atomic on its
    own, so it runs without BEGIN and COMMIT (on PostgreSQL two round trips fewer)."""
    try:
        if one_statement:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                return await conn.run_sync(body)
        async with engine.begin() as conn:
            return await conn.run_sync(body)
    except Exception as error:
        if unavailable(error):
            raise DatabaseUnavailable(_reason(error)) from error
        raise


class Transactions:
    """Runs short transactions whose bodies are plain synchronous SQLAlchemy.

    PostgreSQL: on the async engine (`run_transaction`). A SQLite file: the whole body runs in
    one worker thread on a plain sqlite3 connection to the same file, so a transaction is one
    thread hop instead of one per statement (aiosqlite hands every statement to its thread and
    back), and the writes take turns in arrival order without polling SQLite's busy handler.
    `close()` closes that connection and its thread.
    """

    def __init__(self, engine: AsyncEngine, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self.engine = engine
        self.deadline_s = deadline_s  # each transaction's, refused or stalled alike
        self.outages = 0  # transactions that found the database away, since the start
        self._sync: sa.Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._connection: sa.Connection | None = None  # the worker thread's, kept open
        self._checkpointer: Checkpointer | None = None
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            self._sync = sa.create_engine(
                engine.url.set(drivername="sqlite"),
                pool_size=1,
                max_overflow=0,
                connect_args={"timeout": 30, "check_same_thread": False},
                pool_reset_on_return=None,
            )
            event.listen(self._sync, "connect", _sqlite_pragmas)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="switchboard-sqlite")
            self._checkpointer = Checkpointer(database)

    async def run(self, body: Callable[[sa.Connection], T], *, one_statement: bool = False) -> T:
        """`body` in one transaction; `DatabaseUnavailable` when the database refuses, drops
        or does not answer within `deadline_s` (a timed-out body may still commit later:
        every body that is retried must be idempotent). `one_statement`: see
        `run_transaction` (a SQLite file's BEGIN and COMMIT cost no round trip: the same)."""
        try:
            return await within(self.deadline_s, self._run(body, one_statement))
        except DatabaseUnavailable:
            self.outages += 1
            raise

    async def _run(self, body: Callable[[sa.Connection], T], one_statement: bool) -> T:
        if self._sync is None or self._thread is None:
            return await run_transaction(self.engine, body, one_statement=one_statement)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, self._run_sync, body)
        except Exception as error:
            if unavailable(error):
                raise DatabaseUnavailable(_reason(error)) from error
            raise

    def _run_sync(self, body: Callable[[sa.Connection], T]) -> T:
        # One connection for the thread's life: checking one out of the pool and back for
        # every transaction cost more than a short transaction's statements.
        assert self._sync is not None
        conn = self._connection
        if conn is None or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self._connection = self._sync.connect()
        try:
            with conn.begin():
                return body(conn)
        finally:
            if self._checkpointer is not None:
                self._checkpointer.written()

    async def close(self) -> None:
        if self._sync is None or self._thread is None:
            return
        sync, thread, conn = self._sync, self._thread, self._connection
        self._sync = self._thread = self._connection = None
        await asyncio.get_running_loop().run_in_executor(thread, _dispose, sync, conn)
        thread.shutdown()  # idle by now: returns at once
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.close)


def _dispose(engine: sa.Engine, connection: sa.Connection | None) -> None:
    if connection is not None:
        connection.close()
    engine.dispose()


def _reason(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return f"{type(cause).__name__}: {str(cause).splitlines()[0][:200] if str(cause) else ''}"
