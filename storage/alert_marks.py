"""The highest alert threshold announced per budget and period, raised under a row lock so
alerts from any number of replicas come out in order and only ever go up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import insert_ignore
from storage.tables import budget_alerts_t, utcnow

# Told (previous mark, new mark) while the row is locked; its work (posting the alert) is
# done before any other process can raise the mark again.
Announce = Callable[[int, int], Awaitable[None]]


class AlertMarks:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def mark(self, budget: str, period: str) -> int:
        async with self._db.connect() as conn:
            value = await conn.scalar(
                sa.select(budget_alerts_t.c.threshold).where(*_row(budget, period))
            )
        return int(value or 0)

    async def raise_to(self, budget: str, period: str, reached: int, announce: Announce) -> int:
        """Lock the (budget, period) row and, when `reached` (the highest threshold the caller
        measured, after its own spend landed) is above the mark: `announce(previous, reached)`,
        then store it.

        Returns the mark as it stands. The lock is held while announcing, so a replica that
        crossed a higher threshold meanwhile posts after this one, never before, and a lower
        one is never posted after a higher one (PostgreSQL: a row lock; SQLite: the database
        write lock, for the length of one post). Nothing else is read while the lock is held:
        on SQLite the other writers wait for it holding pooled connections, so one more
        connection could wait for them in turn. A crash while announcing rolls the mark back:
        that alert may be posted again, never skipped.
        """
        async with self._db.begin() as conn:
            await insert_ignore(
                conn,
                budget_alerts_t,
                {"budget": budget, "period": period, "threshold": 0, "updated_at": utcnow()},
            )
            lock = sa.select(budget_alerts_t.c.threshold).where(*_row(budget, period))
            if conn.dialect.name == "postgresql":
                lock = lock.with_for_update()
            else:  # a write takes SQLite's one write lock until commit
                await conn.execute(
                    sa.update(budget_alerts_t)
                    .where(*_row(budget, period))
                    .values(threshold=budget_alerts_t.c.threshold)
                )
            previous = int(await conn.scalar(lock) or 0)
            if reached <= previous:
                return previous
            await announce(previous, reached)
            await conn.execute(
                sa.update(budget_alerts_t)
                .where(*_row(budget, period))
                .values(threshold=reached, updated_at=utcnow())
            )
            return reached


def _row(budget: str, period: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (budget_alerts_t.c.budget == budget[:255], budget_alerts_t.c.period == period)
