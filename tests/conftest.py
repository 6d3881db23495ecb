"""Shared fixtures: databases on SQLite and PostgreSQL, apps built through the composition root
with an in-memory provider, the LLM simulator for the HTTP tests, and a network guard.

PostgreSQL tests use SWITCHBOARD_TEST_POSTGRES_URL (CI sets it). Without the variable they skip,
unless SWITCHBOARD_REQUIRE_POSTGRES=1, when they fail. The schema is migrated once per session;
each test starts from empty tables (SQLite: a copy of a migrated file; PostgreSQL: DELETE, and
the sequences restarted).
"""

from __future__ import annotations

import gc
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.composition import Switchboard, build
from adapters.llm.simulator import LLMSimulator
from bot.llm.provider import Provider
from bot.notices import Notifier
from bot.settings import Settings
from storage import knowledge_tables
from storage.database import create_engine, upgrade
from storage.tables import SQLModel, utcnow
from tests.fakes import FakeProvider

PG_URL = os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", "")
REQUIRE_PG = os.environ.get("SWITCHBOARD_REQUIRE_POSTGRES") == "1"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # tests/adapters/cli/test_kb


# --- no test reaches beyond this machine -------------------------------------------------

_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "", None}


def _local(host: Any) -> bool:
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
        raise OSError(f"tests must not reach the network (tried {address[0]})")
    return _connect(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if not _local(name):
        raise socket.gaierror(f"tests must not resolve {name!r}")
    return _getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


# The young generation's size: objects are collected after this many more allocations than
# frees (Python's default 700). A test makes and drops objects by the hundred thousand; at 700
# enough of them are caught alive to promote into the old generations, and the full passes
# they trigger ran ~20 times in tests/bot (1.48 s); at 10,000 three times (0.17 s): the
# collector's CPU 2.40 -> 1.14 s in one worker (docs/benchmarks.md, section 13).
GC_YOUNG = 10_000


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported (modules, classes, functions: most of a worker's heap) lives to
    the end: moved out of the collector's sight, so its full collections, every few thousand
    allocations, stop walking it again (they took 2.3-2.8 s of CPU a worker)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


@pytest.fixture(autouse=True)
def switchboard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's Switchboard home (where `.env` and relative paths are read) is its own
    temporary directory, never the checkout's `.env`."""
    monkeypatch.setenv("SWITCHBOARD_HOME", str(tmp_path))
    return tmp_path


# --- databases ---------------------------------------------------------------------------


class Database:
    """A migrated database for one test; `engine()` makes engines bound to it (on PostgreSQL
    without waiting for each commit's WAL to reach the disk: the server is never crashed here)."""

    def __init__(self, kind: str, url: str, schema: str | None) -> None:
        self.kind, self.url, self.schema = kind, url, schema

    def engine(self) -> AsyncEngine:
        return create_engine(self.url, search_path=self.schema, durable=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating costs ~0.4 s; a copy ~1 ms)."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "migrated.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()

    asyncio.run(migrate())
    return path


def migrated_copy(template: Path, target: Path) -> Path:
    """`target`, a migrated SQLite database with no rows: a copy of `sqlite_template` (a new
    file takes ~0.23 s of CPU to migrate). For tests whose subject is not the first start;
    the ones that are (`switchboard run` on a new home, `db upgrade`, the migrations) still
    migrate a new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return target


def _sqlite(template: Path, tmp_path: Path) -> Database:
    target = migrated_copy(template, tmp_path / "test.db")
    return Database("sqlite", f"sqlite+aiosqlite:///{target}", None)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str | None]:
    """One migrated schema for the session (None when PostgreSQL is not configured)."""
    if not PG_URL:
        yield None
        return
    import asyncio

    schema = f"t_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        admin = create_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        engine = create_engine(PG_URL, search_path=schema, durable=False)
        await upgrade(engine)
        await engine.dispose()

    async def drop() -> None:
        admin = create_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()

    asyncio.run(create())
    yield schema
    asyncio.run(drop())


assert knowledge_tables.kb_documents_t.name in SQLModel.metadata.tables  # emptied too
# Every table emptied (children first) and every sequence of the schema back at its start, in
# one round trip. DELETE, not TRUNCATE ... RESTART IDENTITY: the tables hold a few rows, and
# TRUNCATE gives each table, index and sequence a new file (0.3-1.1 s a test on a loaded
# machine, against 0.02-0.07 s for this).
EMPTY_TABLES = "; ".join(
    [f'DELETE FROM "{t.name}"' for t in reversed(SQLModel.metadata.sorted_tables)]
    + ["SELECT setval(c.oid, s.seqstart, false) FROM pg_sequence s "
       "JOIN pg_class c ON c.oid = s.seqrelid "
       "WHERE c.relnamespace = current_schema()::regnamespace"]
)  # fmt: skip


async def _postgres(schema: str | None) -> Database:
    if schema is None:
        if REQUIRE_PG:
            pytest.fail("SWITCHBOARD_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("PostgreSQL not configured (set SWITCHBOARD_TEST_POSTGRES_URL)")
    db = Database("postgres", PG_URL, schema)
    engine = db.engine()
    async with engine.begin() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(EMPTY_TABLES)  # asyncpg: several statements without parameters
    await engine.dispose()
    return db


@pytest.fixture(params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_schema: str | None,
) -> Database:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return _sqlite(sqlite_template, tmp_path)
    return await _postgres(postgres_schema)


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Database:
    """SQLite only, for tests that are not about the database."""
    return _sqlite(sqlite_template, tmp_path)


# --- settings, providers, apps ----------------------------------------------------------

MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings for tests: no .env, fast retries, everything else overridable."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path,
            "llm_api_key": "test-key",
            "llm_backoff_base_s": 0.001,
            "llm_backoff_max_s": 0.01,
            "llm_first_token_timeout_s": 5.0,
            "llm_total_timeout_s": 20.0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
async def simulator() -> AsyncIterator[LLMSimulator]:
    """The LLM simulator over loopback HTTP: for tests of the HTTP client and the CLI."""
    async with LLMSimulator(seed=7, speed=0.0) as sim:
        yield sim


MakeApp = Callable[..., Any]


@pytest.fixture
async def make_app(provider: FakeProvider, make_settings: MakeSettings) -> AsyncIterator[MakeApp]:
    """Build switchboards on a test database, with the test's FakeProvider (or another
    provider, or `llm_base_url` for the real HTTP client); all closed at teardown."""
    built: list[Switchboard] = []

    async def make(
        db: Database,
        *,
        provider_: Provider | None = None,
        llm_base_url: str | None = None,
        notifiers: Sequence[Notifier] | None = None,
        clock: Callable[[], datetime] = utcnow,
        **overrides: Any,
    ) -> Switchboard:
        settings = make_settings(database_url=db.url, **overrides)
        chosen = provider_ if provider_ is not None or llm_base_url else provider
        switchboard = await build(
            settings,
            db=db.engine(),
            provider=chosen,
            llm_base_url=llm_base_url,
            notifiers=notifiers,
            migrate=False,
            clock=clock,
        )
        built.append(switchboard)
        return switchboard

    yield make
    for switchboard in built:
        await switchboard.close()


async def fixed_app(make_app: MakeApp, db: Database, **overrides: Any) -> Switchboard:
    """An app on the `fixed` strategy (one model), for tests about everything but routing."""
    overrides.setdefault("routing_strategy", "fixed")
    return await make_app(db, **overrides)  # type: ignore[no-any-return]
