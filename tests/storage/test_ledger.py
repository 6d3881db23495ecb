"""Rollups equal the raw call rows to the nano-dollar, grouped in local days, on both databases."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from storage.claims import Claims
from storage.ledger import Ledger
from storage.rollups import Dimension, Scope, local_days
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread

BERLIN = ZoneInfo("Europe/Berlin")


def varied_rows(threads: list[tuple[int, int]], count: int) -> list[dict[str, object]]:
    """Deterministic variety: huge and tiny costs, NULL (unpriced) costs, errors, DST days."""
    rng = random.Random(42)
    start = datetime(2026, 3, 26, tzinfo=UTC)
    rows = []
    for i in range(count):
        source = rng.choice(["reported", "priced", "estimated", "unpriced", "unbilled"])
        cost = (
            None
            if source == "unpriced"
            else 0
            if source == "unbilled"
            else (rng.randrange(1, 10**14))
        )
        index = i % len(threads)
        rows.append(
            call_values(
                threads[index],
                start + timedelta(minutes=rng.randrange(0, 8 * 24 * 60)),
                channel=f"c{index % 3}",
                user=f"u{i % 4}",
                tier=rng.choice(["budget", "premium", None]),
                model_asked=rng.choice(["openai/gpt-4o", "x/unknown"]),
                model_served=rng.choice([None, "openai/gpt-4o-mini"]),
                strategy=rng.choice(["fixed", "cascade"]),
                cost_source=source,
                cost_nano_usd=cost,
                baseline_cost_nano_usd=rng.choice([None, rng.randrange(1, 10**12)]),
                status="error" if source == "unbilled" else "ok",
                latency_ms=rng.randrange(50, 5000),
                input_tokens=rng.randrange(0, 10**6),
            )
        )
    return rows


def expected_key(row: dict[str, object], dimension: str, labels: dict[int, str]) -> str:
    if dimension == "day":
        return str(row["created_at"].astimezone(BERLIN).date())  # type: ignore[union-attr]
    if dimension == "model":
        return str(row["model_served"] or row["model_asked"])
    if dimension == "thread":
        return labels[row["thread_id"]]  # type: ignore[index]
    if dimension == "tier":
        return str(row["tier"] or "")
    return str(row[dimension])


async def test_rollups_equal_raw_sums_to_the_nano_dollar(database: Database) -> None:
    engine = database.engine()
    try:
        threads = [await make_thread(engine, f"c{i % 3}", f"t{i}") for i in range(6)]
        labels = {t[0]: f"c{i % 3}/t{i}" for i, t in enumerate(threads)}
        rows = varied_rows(threads, 600)
        await insert_calls(engine, rows)
        start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC)
        grand = await Ledger(engine).total(start=start, end=end)
        assert grand.nano_usd == sum(r["cost_nano_usd"] or 0 for r in rows)  # type: ignore[misc]
        assert grand.nano_usd > 2**53  # beyond float precision: exactness is tested for real
        assert grand.calls == 600
        assert grand.unpriced_calls == sum(r["cost_source"] == "unpriced" for r in rows) > 0
        assert grand.estimated_calls == sum(r["cost_source"] == "estimated" for r in rows) > 0
        for dimension in get_args(Dimension):
            expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for r in rows:
                e = expected[expected_key(r, dimension, labels)]
                cost, base = r["cost_nano_usd"], r["baseline_cost_nano_usd"]
                e[0] += cost or 0  # type: ignore[operator]
                e[1] += 1
                if cost is not None and base is not None:
                    e[2] += base  # type: ignore[operator]
                    e[3] += cost  # type: ignore[operator]
            groups = await Ledger(engine).rollup(start=start, end=end, by=(dimension,), zone=BERLIN)
            got = {
                g.key[0]: [g.nano_usd, g.calls, g.baseline_nano_usd, g.compared_nano_usd]
                for g in groups
            }
            assert got == dict(expected), dimension
            assert [g.nano_usd for g in groups] == sorted(
                (g.nano_usd for g in groups), reverse=True
            )
    finally:
        await engine.dispose()


async def test_local_days_follow_dst_on_both_databases(database: Database) -> None:
    engine = database.engine()
    try:
        thread = await make_thread(engine)
        stamps = [
            datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # 23:59 CET, Mar 28
            datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # 00:00 CET, Mar 29 (23-hour day)
            datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 23:59 CEST, Mar 29
            datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # 00:00 CEST, Mar 30
        ]
        await insert_calls(
            engine, [call_values(thread, s, cost_nano_usd=10**i) for i, s in enumerate(stamps)]
        )
        days = local_days(datetime(2026, 3, 28).date(), datetime(2026, 3, 30).date(), BERLIN)
        assert [(d.end - d.start).total_seconds() / 3600 for d in days] == [24, 23, 24]
        groups = await Ledger(engine).rollup(
            start=days[0].start, end=days[-1].end, by=("day",), zone=BERLIN
        )
        assert {g.key[0]: g.nano_usd for g in groups} == {
            "2026-03-28": 1,
            "2026-03-29": 110,
            "2026-03-30": 1000,
        }
        by_day_model = await Ledger(engine).rollup(
            start=days[0].start,
            end=days[-1].end,
            by=("day", "tier"),
            zone=BERLIN,
            scope=Scope(channel="c1"),
        )
        assert sum(g.nano_usd for g in by_day_model) == 1111
    finally:
        await engine.dispose()


async def test_latency_percentiles_interpolate_like_percentile_cont(database: Database) -> None:
    engine = database.engine()
    try:
        thread = await make_thread(engine)
        at = datetime(2026, 5, 1, 12, tzinfo=UTC)
        latencies = [100, 200, 300, 400, 1000, 7, 9000, 50, 60, 70, 80]
        await insert_calls(
            engine,
            [call_values(thread, at, latency_ms=v) for v in latencies]
            + [call_values(thread, at, latency_ms=99999, status="error")],
        )
        got = await Ledger(engine).latency_percentiles(start=at, end=at + timedelta(1))
        ordered = sorted(latencies)

        def cont(p: float) -> float:
            pos = p * (len(ordered) - 1)
            lo = int(pos)
            hi = min(lo + 1, len(ordered) - 1)
            return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

        assert got[0.5] == pytest.approx(cont(0.5))
        assert got[0.95] == pytest.approx(cont(0.95))
        empty = await Ledger(engine).latency_percentiles(start=at - timedelta(9), end=at)
        assert empty == {0.5: None, 0.95: None}
    finally:
        await engine.dispose()


async def test_claim_is_granted_once(database: Database) -> None:
    engine = database.engine()
    try:
        assert await Claims(engine).claim("digest", "all", "2026-05-01")
        assert not await Claims(engine).claim("digest", "all", "2026-05-01")
        assert await Claims(engine).claim("digest", "all", "2026-05-02")
    finally:
        await engine.dispose()
