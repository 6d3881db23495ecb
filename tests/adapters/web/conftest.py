"""Fixtures of the web tests: the seeded ledger, a dashboard client, and headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.adapters.web import seeded
from tests.adapters.web.browser import browser, chromium, served
from tests.adapters.web.serving import dashboard, dashboard_settings
from tests.conftest import Database, MakeSettings, _postgres, _sqlite

__all__ = ["browser", "chromium", "served"]  # session fixtures for the browser tests


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded_db(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_schema: str | None,
) -> Database:
    """The seeded ledger on SQLite and PostgreSQL, once per module: the dashboard only reads.
    (The PostgreSQL tables are the session schema's, emptied again by the next `database`.)"""

    async def seeded_database() -> Database:
        if request.param == "sqlite":
            database = _sqlite(sqlite_template, tmp_path_factory.mktemp("seeded"))
        else:
            database = await _postgres(postgres_schema)
        engine = database.engine()
        try:
            await seeded.seed(engine)
        finally:
            await engine.dispose()
        return database

    return asyncio.run(seeded_database())


@pytest.fixture
async def client(
    seeded_db: Database, make_settings: MakeSettings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with dashboard(dashboard_settings(make_settings, seeded_db, tmp_path), seeded_db) as c:
        yield c
