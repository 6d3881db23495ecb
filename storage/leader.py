"""Leadership across replicas: a PostgreSQL session advisory lock on a dedicated connection.

On SQLite the lock is always held: one SQLite file means one host, and claims still guard each
piece of work.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import DatabaseUnavailable, unavailable

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key from a name (stable across processes)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class LeaderLock:
    """A PostgreSQL session advisory lock on a dedicated connection; always held on SQLite
    (one SQLite file means one host, and claims still guard each digest)."""

    def __init__(self, db: AsyncEngine, name: str = "switchboard:scheduler") -> None:
        self.db, self.name = db, name
        self._conn: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        return self.db.dialect.name == "postgresql"

    async def hold(self) -> bool:
        """True while this instance holds the lock; tries to take it when it does not.
        `DatabaseUnavailable` when the database cannot be reached (the lock is not held)."""
        if not self.shared:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(sa.text("SELECT 1"))
                return True
            except Exception:  # the connection died: the server released our lock
                log.debug("lost the scheduler lock's connection")
                await self._drop()
        try:
            conn = await self.db.connect()
        except Exception as error:
            if unavailable(error):
                raise DatabaseUnavailable(str(error).splitlines()[0][:200]) from None
            raise
        try:
            schema = await conn.scalar(sa.text("SELECT current_schema()"))
            key = lock_key(f"{self.name}:{schema}")
            got = bool(await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(key))))
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            except Exception:
                log.debug("advisory unlock failed; the connection is gone anyway")
            await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.invalidate()  # never hand a lock-holding session back to the pool
            except Exception:
                log.debug("closing the lock connection failed")
