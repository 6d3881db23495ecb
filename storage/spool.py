"""Writes that must land even through a database outage, and a crash during one.

`WriteSpool.write` runs a transaction now; when the database is unreachable (refused, stalled
past the transaction deadline, the pool has no connection to give, SQLite stays locked), the
write is kept: in this process's journal on disk first (`storage.journal`: fsynced, so a
`kill -9` now loses nothing), then in memory, and retried with backoff until the database is
back; later writes for the same question queue behind it, in order. Every write is a
`storage.writes.Write`, which lands once by its key however often it is tried, because an
outage can drop a connection after a commit and before its answer, and a crash can come
between a write landing and its journal's `done` line. At start, `adopt` takes over what a
crashed process's journal still holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from storage.database import DatabaseUnavailable, Transactions
from storage.journal import Journal
from storage.writes import ONE_STATEMENT, Write, apply

log = logging.getLogger(__name__)


class WriteSpool:
    def __init__(
        self,
        transactions: Transactions,
        journal: Journal | None = None,
        *,
        first_retry_s: float = 0.2,
        max_retry_s: float = 5.0,
    ) -> None:
        self._run = transactions.run
        self._journal = journal
        self._queue: deque[Write] = deque()
        self._waiting: dict[int | None, int] = {}  # kept writes per question
        self._first, self._max = first_retry_s, max_retry_s
        self._flusher: asyncio.Task[None] | None = None
        self._empty = asyncio.Event()
        self._empty.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def holds(self, message_id: int) -> bool:
        """Whether a write of this question waits here (its answer is ours, not lost)."""
        return message_id in self._waiting

    async def write(self, write: Write) -> Any:
        """What the write returned, or None when it was kept for later. Writes of one question
        land in order: while one of them waits, the next joins it; others go straight on."""
        if write.message_id not in self._waiting:
            try:
                return await self._run(lambda conn: apply(conn, write, again=False),
                                       one_statement=write.kind in ONE_STATEMENT)  # fmt: skip
            except DatabaseUnavailable as error:
                log.warning("database unavailable (%s): %s kept for later", error,
                            write.describe())  # fmt: skip
        await self._keep(write)
        return None

    async def adopt(self) -> int:
        """Take over the writes a crashed process's journal holds (at start); how many."""
        if self._journal is None:
            return 0
        writes = await asyncio.to_thread(self._journal.adopt)
        for write in writes:
            self._enqueue(write)
        return len(writes)

    async def _keep(self, write: Write) -> None:
        if self._journal is not None:
            try:
                await asyncio.to_thread(self._journal.keep, write)
            except OSError as error:  # a full or read-only disk: memory is all there is
                log.error("journal unavailable (%s): %s kept in memory only, lost if the "
                          "process stops before the database is back", error,
                          write.describe())  # fmt: skip
        self._enqueue(write)

    def _enqueue(self, write: Write) -> None:
        self._queue.append(write)
        self._waiting[write.message_id] = self._waiting.get(write.message_id, 0) + 1
        self._empty.clear()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="switchboard-write-spool")

    async def _flush(self) -> None:
        delay = self._first
        while self._queue:
            write = self._queue[0]
            try:
                await self._run(_again(write), one_statement=write.kind in ONE_STATEMENT)
            except DatabaseUnavailable:
                await asyncio.sleep(delay)
                delay = min(self._max, delay * 2)
                continue
            except Exception:  # a write that can never land must not block the ones behind it
                log.exception("dropped a kept write (%s)", write.describe())
            self._queue.popleft()
            if self._journal is not None:
                self._journal.done(write)
            self._waiting[write.message_id] -= 1
            if not self._waiting[write.message_id]:
                del self._waiting[write.message_id]
            delay = self._first
        log.info("kept writes stored")
        self._empty.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait (up to `timeout_s`) until every kept write landed."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout_s: float = 5.0) -> None:
        if not await self.drain(timeout_s):
            where = self._journal.path if self._journal is not None else None
            log.error("%d write(s) could not be stored before shutdown%s: %s", len(self._queue),
                      f" (kept in {where}, stored at the next start)" if where else "",
                      ", ".join(w.describe() for w in self._queue)[:500])  # fmt: skip
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._journal is not None:
            self._journal.close()


def _again(write: Write) -> Callable[[sa.Connection], Any]:
    return lambda conn: apply(conn, write, again=True)
