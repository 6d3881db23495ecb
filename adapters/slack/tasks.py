"""Work a Slack listener hands off after acking: tracked, bounded, logged, awaited at shutdown.

At most `concurrency` pieces of work run at once (each answer holds a database connection and
an LLM stream while it runs); up to `backlog` more wait their turn. Past that, `spawn` refuses
(the listener raises `Overloaded`, Slack gets a 500 and delivers the event again later, and the
dedupe key answers it once): a burst queues or is pushed back, never grows tasks without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.errors import SwitchboardError
from bot.tasks import BackgroundTasks

log = logging.getLogger(__name__)

CONCURRENCY = 32
BACKLOG = 1000


class Overloaded(SwitchboardError):
    """Too much work queued: refuse the event so that Slack redelivers it later."""


class NotStored(SwitchboardError):
    """The question is not stored yet (the database is slow or down): Slack must not get its
    acknowledgement, so that it delivers the event again; the answer task keeps trying."""


class TaskTracker:
    """Bounded `BackgroundTasks`: each task held until it ends, its failure logged."""

    def __init__(self, concurrency: int = CONCURRENCY, backlog: int = BACKLOG) -> None:
        self._tasks = BackgroundTasks()
        self._concurrency, self._backlog = concurrency, backlog
        self._slots: asyncio.Semaphore | None = None  # made in the running loop
        self.refused = 0

    def ensure_room(self, name: str) -> None:
        """Raises `Overloaded` when the backlog is full (checked before anything is stored)."""
        if len(self._tasks) >= self._concurrency + self._backlog:
            self.refused += 1
            log.warning("overloaded: %d tasks running or waiting; refused %s",
                        len(self._tasks), name)  # fmt: skip
            raise Overloaded(f"busy: {len(self._tasks)} tasks running or waiting")

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `work` when a slot is free; raises `Overloaded` when the backlog is full."""
        try:
            self.ensure_room(name)
        except Overloaded:
            work.close()
            raise
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        return self._tasks.start(self._run(self._slots, work), name)

    @staticmethod
    async def _run(slots: asyncio.Semaphore, work: Coroutine[Any, Any, Any]) -> Any:
        try:
            async with slots:
                return await work
        finally:
            work.close()  # never started (cancelled while waiting): no "never awaited" warning

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until no task is left, including tasks started by the ones awaited."""
        await self._tasks.drain()

    async def close(self, timeout_s: float = 30.0) -> None:
        """Let answers in flight finish (up to `timeout_s`), then cancel the rest."""
        cancelled = await self._tasks.finish(timeout_s)
        if cancelled:
            log.warning("cancelled %d unfinished Slack task(s) at shutdown", cancelled)
