"""The background checkpointer copies SQLite's log back into the database file, so commits
rarely do it themselves and the log starts over once it has caught up."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from storage.checkpoints import CHECKPOINT_S, WAL_AUTOCHECKPOINT
from storage.database import Transactions, create_engine


def log_frames(path: Path) -> int:
    """Frames in the log now (a PASSIVE checkpoint reports them, and copies them back)."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


async def test_writes_are_checkpointed_in_the_background_and_the_log_starts_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    transactions = Transactions(engine)
    insert = sa.text("INSERT INTO t VALUES (:x)")
    try:
        await transactions.run(lambda c: c.execute(sa.text("CREATE TABLE t (x TEXT)")))
        bound = await transactions.run(
            lambda c: c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        )
        assert bound == WAL_AUTOCHECKPOINT  # the commits' own checkpoint is only a bound now
        for n in range(200):  # ~200 frames: far below the bound
            await transactions.run(lambda c, n=n: c.execute(insert, {"x": "x" * n}))
        await asyncio.sleep(3 * CHECKPOINT_S)  # idle: the thread copies the log back
        await transactions.run(lambda c: c.execute(insert, {"x": "y"}))
        # That checkpoint caught up, so this write started the log over: a frame or two in it
        # (with no background checkpoint, the ~200 of the writes above).
        assert log_frames(path) < 10
    finally:
        await transactions.close()
        await engine.dispose()
