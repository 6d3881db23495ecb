"""Short transactions: on a SQLite file each runs whole in one worker thread, in the order they
were asked for; on PostgreSQL on the async engine. Either way every write lands."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import sqlalchemy as sa

from storage.database import Transactions
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
