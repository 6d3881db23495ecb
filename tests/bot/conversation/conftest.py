"""PostgreSQL behind a proxy the outage tests cut, restore and stall."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Database, _postgres
from tests.pg_proxy import CuttableProxy


@pytest.fixture
async def pg(postgres_schema: str | None) -> Database:
    return await _postgres(postgres_schema)


@pytest.fixture
async def proxy(pg: Database) -> AsyncIterator[CuttableProxy]:
    cuttable = await CuttableProxy(pg.url).start()
    yield cuttable
    await cuttable.close()
