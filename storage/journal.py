"""The durable half of the write spool: what the database cannot take yet, on local disk.

Each write the spool keeps for later is appended to this process's journal file as one JSON
line and fsynced before the caller goes on, so an answer is never reported done while its
ledger row, its posts or its answered mark exist only in memory. When a kept write lands, a
`done` line follows it (not fsynced: a lost one only means replaying a write that lands once
anyway, by its key); when none is left the file is emptied.

Why a file of JSON lines, not a SQLite side database: appending a line and fsyncing it is all
it takes (no schema, no locks beyond one `flock`, nothing to migrate), a torn last line after
a crash is simply skipped, and it keeps working when the trouble is SQLite itself (a main
database locked by another process, or on a full or broken volume the journal is not on).

Files live in `DATA_DIR/journal/`, one per process, each held with an exclusive `flock` while
its process lives: the kernel releases it when the process dies, however it dies. A process
adopts, at start and whenever it looks again, every file nobody holds (a crashed process's):
it copies the writes not yet done into its own journal, then deletes the file. A second
process starting at the same time cannot take the same file (it is locked while adopted).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import IO

from storage.writes import Write

log = logging.getLogger(__name__)


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: IO[str] | None = None  # opened on the first write kept
        self._lock = threading.Lock()  # appends come from worker threads
        self._open = 0  # kept writes not yet done

    @property
    def path(self) -> Path | None:
        return None if self._file is None else Path(self._file.name)

    def keep(self, write: Write) -> None:
        """Append `write` and fsync: from here on a crash cannot lose it."""
        line = json.dumps({"write": write.as_json()}, separators=(",", ":")) + "\n"
        with self._lock:
            file = self._own()
            file.write(line)
            file.flush()
            os.fsync(file.fileno())
            self._open += 1

    def done(self, write: Write) -> None:
        """`write` landed; once none is left, the file is emptied."""
        with self._lock:
            if self._file is None:
                return
            self._open = max(0, self._open - 1)
            if self._open == 0:
                self._file.truncate(0)
                self._file.seek(0)
                self._file.flush()
                return
            self._file.write(json.dumps({"done": write.key}) + "\n")
            self._file.flush()

    def adopt(self) -> list[Write]:
        """The writes a dead process left (files nobody holds), in order, each once; they are
        kept in this journal first, then their files deleted."""
        if not self.folder.is_dir():
            return []
        found: list[Write] = []
        seen: set[str] = set()
        for path in sorted(self.folder.glob("*.jsonl")):
            if self.path is not None and path == self.path:
                continue
            with contextlib.suppress(FileNotFoundError), path.open("r+", encoding="utf-8") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live process's journal
                left = [w for w in _pending(f.read(), path) if w.key not in seen]
                for write in left:
                    self.keep(write)
                    seen.add(write.key)
                found.extend(left)
                path.unlink()
        if found:
            log.warning("journal: %d write(s) a stopped process could not store are replayed",
                        len(found))  # fmt: skip
        return found

    def close(self) -> None:
        """Release the file (it stays when writes are left in it, for the next start)."""
        with self._lock:
            file, self._file = self._file, None
            if file is None:
                return
            empty = self._open == 0
            file.close()  # releases the flock
            if empty:
                with contextlib.suppress(FileNotFoundError):
                    Path(file.name).unlink()

    def _own(self) -> IO[str]:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{uuid.uuid4().hex}.jsonl"
            file = path.open("a+", encoding="utf-8")
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._file = file
        return self._file


def _pending(text: str, path: Path) -> list[Write]:
    """The writes of a journal's text not followed by their `done` line; a torn last line
    (the process died while writing it, before its fsync returned) is skipped."""
    writes: dict[str, Write] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            item = json.loads(line)
            if "done" in item:
                writes.pop(str(item["done"]), None)
            else:
                write = Write.from_json(item["write"])
                writes[write.key] = write
        except (ValueError, KeyError, TypeError):
            log.warning("journal %s: line %d unreadable, skipped", path.name, number)
    return list(writes.values())
