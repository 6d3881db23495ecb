"""Web services served for real over loopback HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import httpx


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
        async with httpx.AsyncClient(base_url=base) as client:
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
