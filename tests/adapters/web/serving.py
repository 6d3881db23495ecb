"""The dashboard served for real over loopback HTTP, on the seeded ledger, with a fixed clock."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from adapters.routing_setup import build_routing
from adapters.services import dashboard_service
from adapters.stores import Stores
from bot.settings import Settings
from tests.adapters.web import seeded
from tests.conftest import Database, MakeSettings
from tests.http import http_client

TOKEN = "test-dashboard-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(
    service: Callable[[], Coroutine[Any, Any, None]], port: int, path: str = "/static/style.css"
) -> AsyncIterator[str]:
    """Run a web service task until the block ends; yields its base URL once it answers."""
    task = asyncio.create_task(service())
    base = f"http://127.0.0.1:{port}"
    try:
        async with http_client(base_url=base) as client:
            for _ in range(200):
                if task.done():
                    task.result()  # start-up failed: raise its error
                try:
                    await client.get(path)
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.01)
        yield base
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def dashboard_settings(make_settings: MakeSettings, db: Database, tmp_path: Path,
                       **overrides: Any) -> Settings:  # fmt: skip
    values: dict[str, Any] = {
        **seeded.SETTINGS,
        "database_url": db.url,
        "routing_file": seeded.routing_with_experiment(tmp_path),
        "dashboard_token": TOKEN,
    }
    values.update(overrides)
    return make_settings(**values)


@asynccontextmanager
async def dashboard(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The dashboard `switchboard dashboard` would serve, wired by the composition root."""
    engine = db.engine()
    port = free_port()
    try:
        service = dashboard_service(
            settings, Stores.over(engine), build_routing(settings), port, lambda: seeded.NOW
        )
        async with (
            serving(service, port) as base,
            http_client(base_url=base, headers=AUTH) as client,
        ):
            yield client
    finally:
        await engine.dispose()
