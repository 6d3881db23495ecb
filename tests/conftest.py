"""Shared fixtures: a simulated LLM over real HTTP, and databases on SQLite and PostgreSQL.

PostgreSQL tests use SWITCHBOARD_TEST_POSTGRES_URL (CI sets it) and one fresh schema per test.
Without the variable they skip, unless SWITCHBOARD_REQUIRE_POSTGRES=1, when they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.composition import App, build_app
from adapters.llm.simulator import LLMSimulator
from bot.settings import Settings
from storage.database import create_engine, upgrade

PG_URL = os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", "")
REQUIRE_PG = os.environ.get("SWITCHBOARD_REQUIRE_POSTGRES") == "1"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
async def simulator() -> AsyncIterator[LLMSimulator]:
    async with LLMSimulator(seed=7, speed=0.0) as sim:
        yield sim


class Database:
    """A migrated database for one test; `engine()` makes engines bound to it."""

    def __init__(self, kind: str, url: str, schema: str | None) -> None:
        self.kind, self.url, self.schema = kind, url, schema

    def engine(self) -> AsyncEngine:
        return create_engine(self.url, search_path=self.schema)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", None)
        engine = db.engine()
        await upgrade(engine)
        await engine.dispose()
        yield db
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("SWITCHBOARD_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("PostgreSQL not configured (set SWITCHBOARD_TEST_POSTGRES_URL)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    db = Database("postgres", PG_URL, schema)
    engine = db.engine()
    await upgrade(engine)
    await engine.dispose()
    try:
        yield db
    finally:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Database:
    """SQLite only, for tests that are not about the database."""
    db = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", None)
    engine = db.engine()
    await upgrade(engine)
    await engine.dispose()
    return db


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


MakeApp = Callable[..., Any]


@pytest.fixture
async def make_app(
    simulator: LLMSimulator, make_settings: MakeSettings
) -> AsyncIterator[MakeApp]:
    """Build apps wired to the simulator and a given database; all closed at teardown."""
    apps: list[App] = []

    async def make(db: Database, **overrides: Any) -> App:
        settings = make_settings(database_url=db.url, **overrides)
        app = await build_app(settings, llm_base_url=simulator.base_url, db=db.engine())
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.close()
