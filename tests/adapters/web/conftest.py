"""Fixtures of the web tests: the seeded ledger, a dashboard client, and headless Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.adapters.web import seeded
from tests.adapters.web.browser import browser, chromium, served
from tests.adapters.web.serving import dashboard, dashboard_settings
from tests.conftest import Database, MakeSettings

__all__ = ["browser", "chromium", "served"]  # session fixtures for the browser tests


@pytest.fixture
async def seeded_db(database: Database) -> Database:
    engine = database.engine()
    try:
        await seeded.seed(engine)
    finally:
        await engine.dispose()
    return database


@pytest.fixture
async def client(
    seeded_db: Database, make_settings: MakeSettings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with dashboard(dashboard_settings(make_settings, seeded_db, tmp_path), seeded_db) as c:
        yield c
