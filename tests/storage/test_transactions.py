"""Short transactions: on a SQLite file each runs whole in one worker thread, in the order they
were asked for; on PostgreSQL on the async engine. Either way every write lands."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import DatabaseUnavailable, Transactions, create_engine
from storage.tables import budget_alerts_t, utcnow
from tests.conftest import Database


async def test_concurrent_transactions_all_land_in_the_order_asked(database: Database) -> None:
    engine = database.engine()
    transactions = Transactions(engine)
    threads: list[str] = []

    def write(n: int) -> Callable[[sa.Connection], int]:
        def body(conn: sa.Connection) -> int:
            threads.append(threading.current_thread().name)
            conn.execute(sa.insert(budget_alerts_t).values(
                budget=f"b{n}", period="2026-11-30", threshold=n, updated_at=utcnow()))  # fmt: skip
            return int(conn.scalar(sa.select(sa.func.count()).select_from(budget_alerts_t)) or 0)

        return body

    try:
        counts = await asyncio.gather(*(transactions.run(write(n)) for n in range(50)))
        if database.kind == "sqlite":
            assert counts == list(range(1, 51))  # one after the other, in arrival order
            assert {name.split("_")[0] for name in threads} == {"switchboard-sqlite"}
        async with engine.connect() as conn:
            stored = (await conn.execute(sa.select(budget_alerts_t.c.threshold))).scalars().all()
        assert sorted(stored) == list(range(50))
    finally:
        await transactions.close()
        await engine.dispose()
    assert not [t for t in threading.enumerate() if t.name.startswith("switchboard-sqlite")]


BACKEND = sa.select(sa.func.pg_backend_pid())


async def _backend(transactions: Transactions) -> int:
    return int(await transactions.run(lambda conn: conn.scalar(BACKEND)))


async def _end_session(admin: AsyncEngine, pid: int) -> None:
    alive = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    async with admin.connect() as conn:
        await conn.execute(sa.select(sa.func.pg_terminate_backend(pid)))
        for _ in range(100):  # the server needs a moment to end it
            if not await conn.scalar(alive, {"pid": pid}):
                return
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("idle_ping_s", [0.05, 60.0])
async def test_a_pooled_connection_the_server_ended_is_tested_only_after_sitting_idle(
    database: Database, idle_ping_s: float
) -> None:
    """Idle past `idle_ping_s`, a dead connection is replaced before use; used more recently,
    its transaction finds the database away once (an outage, retried as any) and the next
    one runs on a new connection."""
    if database.kind != "postgres":
        pytest.skip("SQLite has no server to end a session")
    engine = create_engine(database.url, search_path=database.schema, durable=False,
                           idle_ping_s=idle_ping_s)  # fmt: skip
    admin = database.engine()
    transactions = Transactions(engine)
    try:
        pid = await _backend(transactions)
        await _end_session(admin, pid)
        await asyncio.sleep(0.1)  # idle past 0.05 s, not past 60 s
        if idle_ping_s < 0.1:
            assert await _backend(transactions) != pid
        else:
            with pytest.raises(DatabaseUnavailable):
                await _backend(transactions)
            assert await _backend(transactions) != pid
        assert transactions.outages == (0 if idle_ping_s < 0.1 else 1)
    finally:
        await engine.dispose()
        await admin.dispose()
