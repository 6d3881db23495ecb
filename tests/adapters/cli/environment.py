"""Run commands with exactly the variables a user sets: nothing else from the environment."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.cli.commands.run import serve_all
from bot.settings import Settings, load_settings


def only_env(monkeypatch: pytest.MonkeyPatch, **variables: Any) -> Settings:
    """Clear every Switchboard setting from the environment, set `variables`, load settings
    the way the CLI does (the test's home directory has no `.env`)."""
    names = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.upper() in names:
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    return load_settings()


async def until(condition: Callable[[], object], task: asyncio.Task[Any], timeout_s: float) -> None:
    """Wait for `condition`; fail at once (with its error) if `task` ends first."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            if task.done():
                task.result()
                raise AssertionError("the service stopped before the condition held")
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[asyncio.Task[None]]:
    """`switchboard run`'s serve loop in a task; stopped (as SIGTERM does) on exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve_all(settings, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
