"""Writes that must land even through a database outage.

`WriteSpool.write` runs a transaction now; when the database is unreachable (or the pool has
no connection to give, or SQLite stays locked), the write is kept and retried with backoff
until the database is back; later writes for the same question queue behind it, in order.
Each spooled body must be idempotent (a call row is looked up by its key first), because an
outage can drop a connection after a commit and before its answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa

from storage.database import DatabaseUnavailable, Transactions

log = logging.getLogger(__name__)

T = TypeVar("T")
Body = Callable[[sa.Connection], object]


class WriteSpool:
    def __init__(
        self, transactions: Transactions, *, first_retry_s: float = 0.2, max_retry_s: float = 5.0
    ) -> None:
        self._run = transactions.run
        self._queue: deque[tuple[str, Hashable, Body]] = deque()
        self._waiting: dict[Hashable, int] = {}  # spooled writes per key
        self._first, self._max = first_retry_s, max_retry_s
        self._flusher: asyncio.Task[None] | None = None
        self._empty = asyncio.Event()
        self._empty.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def write(
        self,
        what: str,
        key: Hashable,
        body: Callable[[sa.Connection], T],
        again: Body | None = None,
    ) -> T | None:
        """`body`'s result, or None when the write was spooled (`again`, or `body`, is retried
        later). Writes with the same `key` (one question's) land in order: while one of them
        waits in the spool, the next joins it; writes for other keys go straight through."""
        if key not in self._waiting:
            try:
                return await self._run(body)
            except DatabaseUnavailable as error:
                log.warning("database unavailable (%s): %s kept for later", error, what)
        self._queue.append((what, key, again or body))
        self._waiting[key] = self._waiting.get(key, 0) + 1
        self._empty.clear()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="switchboard-write-spool")
        return None

    async def _flush(self) -> None:
        delay = self._first
        while self._queue:
            what, key, body = self._queue[0]
            try:
                await self._run(body)
            except DatabaseUnavailable:
                await asyncio.sleep(delay)
                delay = min(self._max, delay * 2)
                continue
            except Exception:  # a write that can never land must not block the ones behind it
                log.exception("dropped a spooled write (%s)", what)
            self._queue.popleft()
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
            delay = self._first
        log.info("spooled writes stored")
        self._empty.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait (up to `timeout_s`) until every spooled write landed."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout_s: float = 5.0) -> None:
        if not await self.drain(timeout_s):
            log.error("%d spooled write(s) could not be stored before shutdown: %s",
                      len(self._queue), ", ".join(w for w, _, _ in self._queue)[:500])  # fmt: skip
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
