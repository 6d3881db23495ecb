"""Work that runs in the background: tracked (asyncio keeps only weak references to tasks),
its failures logged, awaited or cancelled at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return self.track(asyncio.create_task(work, name=name))

    def track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Hold `task` until it ends (started elsewhere: a handler's own task)."""
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Hold the current task while inside (a handler's answer that shutdown waits for)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("task %s failed", task.get_name(), exc_info=error)

    def others(self) -> set[asyncio.Task[Any]]:
        """The tasks held, except the one asking (a handler waiting for its peers)."""
        return {task for task in self._tasks if task is not asyncio.current_task()}

    async def drain(self) -> None:
        """Wait until none is left, including tasks started by the ones awaited."""
        while pending := self.others():
            await asyncio.gather(*pending, return_exceptions=True)

    async def cancel(self, wait_s: float | None = None) -> int:
        """Cancel the tasks held and wait for them to end (at most `wait_s`); how many."""
        pending = self.others()
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=wait_s)
        return len(pending)

    async def finish(self, timeout_s: float, wait_s: float | None = None) -> int:
        """Let the tasks held finish (up to `timeout_s`), then cancel the rest; how many were
        cancelled (shutdown: answers in flight get a grace period)."""
        try:
            await asyncio.wait_for(self.drain(), timeout_s)
        except TimeoutError:
            return await self.cancel(wait_s)
        return 0
