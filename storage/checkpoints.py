"""SQLite's write-ahead log copied into the database file from a thread of its own.

By default the commit that takes the log past 1,000 pages copies it back itself, inside the
answer that made it (a few milliseconds, one answer in ~40: the engine's p99, see
docs/benchmarks.md). Here a background thread, on its own connection, runs a PASSIVE checkpoint
every `CHECKPOINT_S` after writes: it never blocks a writer (nor is blocked), SQLite's C code
runs without the GIL, and once it has caught up the next write starts the log from its
beginning again, so it stays small. The commits' own automatic checkpoint is kept as a bound
(`WAL_AUTOCHECKPOINT` pages, ~16 MB) should the thread ever fall behind or stop.

Durability is SQLite's `synchronous=NORMAL` in WAL mode, as before: a commit survives the
process crashing; a power loss can take back the commits since the log was last synced (each
checkpoint syncs it first), here at most the last `CHECKPOINT_S` of them.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

CHECKPOINT_S = 0.2
WAL_AUTOCHECKPOINT = 4000  # pages (4 KiB each): the bound, not the usual case


class Checkpointer:
    """Checkpoints the SQLite file at `path` in the background while `written()` is called."""

    def __init__(self, path: str, interval_s: float = CHECKPOINT_S) -> None:
        self._path = path
        self._interval_s = interval_s
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def written(self) -> None:
        """A transaction ended: checkpoint on the next round (the thread starts on the first)."""
        self._dirty.set()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="switchboard-checkpoint",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, frames in the log, frames copied back)."""
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)

    def _loop(self) -> None:
        conn = sqlite3.connect(self._path, timeout=0, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval_s):
                if not self._dirty.is_set():
                    continue
                self._dirty.clear()
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as error:  # the commits' own checkpoint still bounds it
                    log.debug("background checkpoint of %s skipped: %s", self._path, error)
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the thread (its last round finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
