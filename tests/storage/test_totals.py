"""The hourly totals always equal the raw call rows, and rollups read from them give the same
figures as summing the raw rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.ledger import Ledger
from storage.rollups import Dimension, Scope, local_days
from storage.tables import calls_t, channel_hours_t, model_hours_t, user_days_t, user_hours_t
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread
from tests.storage.revisions import downgrade

START = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)  # spans the US switch to summer time
MEASURES = ("nano_usd", "calls", "errors", "input_tokens", "output_tokens", "estimated_calls",
            "unpriced_calls", "baseline_nano_usd", "compared_nano_usd")  # fmt: skip
KEYS = {
    "model_hours": ("platform", "workspace", "model", "tier", "strategy"),
    "channel_hours": ("platform", "workspace", "channel"),
    "user_hours": ("platform", "workspace", "user"),
    "user_days": ("platform", "workspace", "user"),
}


def random_calls(rng: random.Random, thread: tuple[int, int], n: int) -> list[dict[str, Any]]:
    calls = []
    for _ in range(n):
        cost = rng.choice([None, 0, rng.randrange(1, 10**7)])
        calls.append(call_values(
            thread,
            START + timedelta(minutes=rng.uniform(0, 3 * 24 * 60)),
            platform=rng.choice(["slack", "discord"]),
            channel=rng.choice(["c1", "c2", "c3"]),
            user=rng.choice(["", "u1", "u2"]),
            tier=rng.choice([None, "budget", "premium"]),
            model_asked=rng.choice(["m/a", "m/b"]),
            model_served=rng.choice([None, "m/b", "m/c"]),
            strategy=rng.choice(["tiered", "fixed"]),
            status=rng.choice(["ok", "ok", "error", "incomplete"]),
            cost_source="unpriced" if cost is None else rng.choice(["reported", "estimated"]),
            cost_nano_usd=cost,
            baseline_cost_nano_usd=rng.choice([None, rng.randrange(0, 10**7)]),
            input_tokens=rng.choice([None, rng.randrange(0, 5000)]),
            output_tokens=rng.choice([None, rng.randrange(0, 5000)]),
        ))  # fmt: skip
    return calls


def key_of(row: Any, table: str) -> tuple[Any, ...]:
    m = row._mapping
    values = {**m, "model": m["model_served"] or m["model_asked"], "tier": m["tier"] or ""}
    hour = m["created_at"].astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    when = hour.replace(hour=0) if table == "user_days" else hour
    return (when, *(values[k] for k in KEYS[table]))


def measures_of(row: Any) -> tuple[int, ...]:
    m = row._mapping
    cost, baseline = m["cost_nano_usd"], m["baseline_cost_nano_usd"]
    both = cost is not None and baseline is not None
    return (cost or 0, 1, int(m["status"] == "error"), m["input_tokens"] or 0,
            m["output_tokens"] or 0, int(m["cost_source"] == "estimated"),
            int(m["cost_source"] == "unpriced"), baseline if both else 0,
            cost if both else 0)  # fmt: skip


async def assert_totals_equal_raw(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        raw = (await conn.execute(sa.select(calls_t))).all()
        for table in (model_hours_t, channel_hours_t, user_hours_t, user_days_t):
            expected: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * 9)
            for row in raw:
                sums = expected[key_of(row, table.name)]
                for i, value in enumerate(measures_of(row)):
                    sums[i] += value
            when = "day" if table is user_days_t else "hour"
            stored = {
                (r._mapping[when], *(r._mapping[k] for k in KEYS[table.name])):
                    [int(r._mapping[m]) for m in MEASURES]
                for r in (await conn.execute(sa.select(table))).all()
                if r.calls  # a group whose calls were all deleted keeps a row of zeros
            }  # fmt: skip
            assert stored == dict(expected), table.name
    return len(raw)


async def test_totals_equal_the_raw_rows_through_concurrent_writes_updates_and_deletes(
    database: Database,
) -> None:
    db = database.engine()
    rng = random.Random(5)
    try:
        thread = await make_thread(db)
        batches = [random_calls(rng, thread, 25) for _ in range(8)]

        async def write(batch: Sequence[dict[str, Any]]) -> None:
            for call in batch:  # one transaction per call, like the bot; 8 writers at once
                await insert_calls(db, [call])

        await asyncio.gather(*(write(batch) for batch in batches))
        assert await assert_totals_equal_raw(db) == 200
        async with db.begin() as conn:
            await conn.execute(
                sa.update(calls_t).where(calls_t.c.id % 7 == 0)
                .values(cost_nano_usd=123, cost_source="reported", channel="c9")
            )  # fmt: skip
            await conn.execute(sa.update(calls_t).where(calls_t.c.id % 5 == 0).values(reasons="x"))
            await conn.execute(sa.delete(calls_t).where(calls_t.c.id % 11 == 0))
        assert await assert_totals_equal_raw(db) == 200 - 200 // 11
        with pytest.raises(RuntimeError):  # a transaction that dies after its call row
            async with db.begin() as conn:
                await conn.execute(sa.insert(calls_t), [random_calls(rng, thread, 1)[0]])
                raise RuntimeError("crash before commit")
        assert await assert_totals_equal_raw(db) == 200 - 200 // 11
    finally:
        await db.dispose()


async def test_hot_totals_row_under_concurrent_writers(database: Database) -> None:
    """40 transactions at once, all adding to the same hour, channel and model."""
    db = database.engine()
    try:
        thread = await make_thread(db)
        now = datetime(2026, 5, 1, 10, 30, tzinfo=UTC)
        await asyncio.gather(
            *(insert_calls(db, [call_values(thread, now, cost_nano_usd=i)]) for i in range(40))
        )
        async with db.connect() as conn:
            row = (await conn.execute(sa.select(model_hours_t))).one()
        assert (row.calls, row.nano_usd) == (40, sum(range(40)))
    finally:
        await db.dispose()


Sums = dict[tuple[str, ...], tuple[int, ...]]


def python_rollup(raw: Sequence[Any], by: Sequence[Dimension], zone: ZoneInfo, start: datetime,
                  end: datetime, scope: Scope) -> Sums:  # fmt: skip
    found: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0] * 9)
    for row in raw:
        m = row._mapping
        if not start <= m["created_at"] < end:
            continue
        if any(v is not None and m[f] != v for f, v in vars(scope).items()):
            continue
        values = {**m, "model": m["model_served"] or m["model_asked"], "tier": m["tier"] or "",
                  "day": m["created_at"].astimezone(zone).date().isoformat()}  # fmt: skip
        sums = found[tuple(str(values[d]) for d in by)]
        for i, value in enumerate(measures_of(row)):
            sums[i] += value
    return {key: tuple(v) for key, v in found.items()}


@pytest.mark.parametrize("zone_name", ["UTC", "America/New_York", "Asia/Kolkata"])
async def test_rollups_from_totals_equal_sums_of_the_raw_rows(
    database: Database, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    db = database.engine()
    ledger = Ledger(db)
    try:
        thread = await make_thread(db)
        await insert_calls(db, random_calls(random.Random(9), thread, 300))
        async with db.connect() as conn:
            raw = (await conn.execute(sa.select(calls_t))).all()
        days = local_days(date(2026, 3, 7), date(2026, 3, 10), zone)
        windows = [(days[0].start, days[-1].end), (days[1].start, days[1].end),
                   (START + timedelta(minutes=17), START + timedelta(hours=30, minutes=5)),
                   (START + timedelta(minutes=1), START + timedelta(minutes=50))]  # fmt: skip
        groupings: list[tuple[tuple[Dimension, ...], Scope]] = [
            ((), Scope()), (("day", "tier"), Scope()), (("model",), Scope(channel="c2")),
            (("channel", "strategy"), Scope(platform="slack")), (("user",), Scope()),
            (("day",), Scope(workspace="w1", user="u1")), (("platform",), Scope(user="u2")),
            (("tier",), Scope(channel="c1", user="u1")),
        ]  # fmt: skip
        for start, end in windows:
            for by, scope in groupings:
                got = await ledger.rollup(start=start, end=end, by=by, zone=zone, scope=scope)
                expected = python_rollup(raw, by, zone, start, end, scope)
                as_dict = {g.key: tuple(getattr(g, m) for m in MEASURES) for g in got if g.calls}
                assert as_dict == expected, (start, end, by, scope)
        total = await ledger.spend_total(start=days[0].start, end=days[-1].end, channel="c3")
        c3 = python_rollup(raw, (), zone, days[0].start, days[-1].end, Scope(channel="c3"))[()]
        assert (total.nano_usd, total.calls, total.unpriced_calls) == (c3[0], c3[1], c3[6])
    finally:
        await db.dispose()


async def test_totals_triggers_dropped_by_a_migration_are_put_back_at_start_up(
    database: Database,
) -> None:
    """A later migration that rebuilds `calls` (SQLite batch mode does, for a new constraint)
    drops its triggers with the old table: start-up puts them back and the totals stay exact."""
    from storage.database import upgrade
    from storage.totals_ddl import drop_trigger_ddl, triggers_present

    db = database.engine()
    try:
        thread = await make_thread(db)
        await insert_calls(db, random_calls(random.Random(2), thread, 20))
        async with db.begin() as conn:
            for statement in drop_trigger_ddl(conn.dialect.name):
                if "FUNCTION" not in statement:
                    await conn.execute(sa.text(statement))
            assert not await conn.run_sync(triggers_present)
        await upgrade(db)
        async with db.connect() as conn:
            assert await conn.run_sync(triggers_present)
        await insert_calls(db, random_calls(random.Random(3), thread, 20))
        assert await assert_totals_equal_raw(db) == 40
    finally:
        await db.dispose()


async def test_the_daily_totals_migration_sums_the_calls_already_there(
    database: Database,
) -> None:
    """Migration 0013 adds `user_days`: it sums the existing calls, and its triggers keep it."""
    from storage.database import upgrade

    db = database.engine()
    try:
        thread = await make_thread(db)
        await insert_calls(db, random_calls(random.Random(4), thread, 40))
        await downgrade(db, "0012")
        await insert_calls(db, random_calls(random.Random(6), thread, 40))  # hourly totals only
        await upgrade(db)
        await insert_calls(db, random_calls(random.Random(8), thread, 20))
        assert await assert_totals_equal_raw(db) == 100
    finally:
        await db.dispose()
