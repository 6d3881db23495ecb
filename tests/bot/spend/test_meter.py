"""The spend meter: budget checks from memory, current with this process's calls at once and
with other writers' calls after `refresh_s`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.spend.meter import SpendMeter
from bot.spend.policy import BudgetPolicy
from storage.conversations import Conversations
from storage.ledger import Ledger
from storage.records import CallRecord
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
POLICY = BudgetPolicy(daily_nano_usd=10**9, monthly_nano_usd=10**10,
                      channel_daily_nano_usd=10**9, user_daily_nano_usd=10**9)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now, self.seconds = NOW, 0.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds


def record(thread: tuple[int, int], cost: int, channel: str = "c1", user: str = "u1",
           at: datetime = NOW) -> CallRecord:  # fmt: skip
    return CallRecord(thread[0], thread[1], "console", "w1", channel, user, "fixed", "m/x",
                      "reported", "ok", 1, cost_nano_usd=cost, created_at=at)  # fmt: skip


def count_queries(engine: Any) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine.sync_engine, "before_cursor_execute",
                    lambda *args: seen.append(args[2]))  # fmt: skip
    return seen


async def spent_all(meter: SpendMeter, channel: str = "c1", user: str = "u1") -> list[int]:
    budgets = POLICY.budgets("console", "w1", channel, user)
    return [await meter.spent(b, meter.window(b.period)) for b in budgets]


async def test_checks_come_from_memory_and_count_this_process_calls_at_once(
    database: Database,
) -> None:
    db = database.engine()
    clock = Clock()
    meter = SpendMeter(Ledger(db), POLICY, clock=clock.wall, monotonic=clock.monotonic)
    conversations = Conversations(db)
    try:
        thread = await make_thread(db)
        await insert_calls(db, [call_values(thread, NOW - timedelta(hours=1), cost_nano_usd=7)])
        assert await spent_all(meter) == [7, 7, 7, 7]  # day, month, channel, user
        queries = count_queries(db)
        for cost in (100, 20):  # recorded the way the CallRecorder does: store, then observers
            row = record(thread, cost)
            await meter.on_call(await conversations.record_call(row), row)
        writes = len(queries)
        for _ in range(100):
            assert await spent_all(meter) == [127, 127, 127, 127]
        assert len(queries) == writes  # 400 budget checks, no query
        other = record(thread, 5, channel="c2", user="u2")
        await meter.on_call(await conversations.record_call(other), other)
        assert await spent_all(meter) == [132, 132, 127, 127]
        assert await spent_all(meter, "c2", "u2") == [132, 132, 5, 5]
    finally:
        await meter.close()
        await db.dispose()


async def test_other_writers_are_seen_after_the_refresh_interval(database: Database) -> None:
    db = database.engine()
    clock = Clock()
    meter = SpendMeter(Ledger(db), POLICY, refresh_s=5, clock=clock.wall,
                       monotonic=clock.monotonic)  # fmt: skip
    try:
        thread = await make_thread(db)
        assert await spent_all(meter) == [0, 0, 0, 0]
        # Another replica records a call: not seen until the figures are 5 s old...
        await insert_calls(db, [call_values(thread, NOW, cost_nano_usd=40)])
        clock.seconds = 4.9
        assert await spent_all(meter) == [0, 0, 0, 0]
        clock.seconds = 5.0  # ...then the check starts a re-read and answers from memory
        assert await spent_all(meter) == [0, 0, 0, 0]
        for _ in range(50):
            await asyncio.sleep(0.01)
            if await spent_all(meter) == [40, 40, 40, 40]:
                break
        assert await spent_all(meter) == [40, 40, 40, 40]
    finally:
        await meter.close()
        await db.dispose()


async def test_a_new_day_is_read_from_the_ledger_and_refresh_0_reads_every_check(
    database: Database,
) -> None:
    db = database.engine()
    clock = Clock()
    meter = SpendMeter(Ledger(db), POLICY, refresh_s=0, clock=clock.wall,
                       monotonic=clock.monotonic)  # fmt: skip
    try:
        thread = await make_thread(db)
        await insert_calls(db, [call_values(thread, NOW, cost_nano_usd=3)])
        assert await spent_all(meter) == [3, 3, 3, 3]
        await insert_calls(db, [call_values(thread, NOW, cost_nano_usd=4)])
        assert await spent_all(meter) == [7, 7, 7, 7]  # refresh_s=0: exact at every check
        clock.now = NOW + timedelta(days=1)
        assert await spent_all(meter) == [0, 7, 0, 0]  # a new day; the month goes on
    finally:
        await meter.close()
        await db.dispose()
