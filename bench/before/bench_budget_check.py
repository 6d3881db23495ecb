"""BEFORE (pre-restructure code, commit 6e02e66): one budget check with 1M calls in the month.

Run with the OLD tree's venv (its `bot.budget` is imported):
    /work/old/.venv/bin/python bench/before/bench_budget_check.py [--rows 1000000]
        [--skip-postgres] [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]

The ledger: `--rows` synthetic calls spread evenly from the start of the current month (UTC) to
now, bulk-loaded by the old tree's own `bench/bench_spend.py` helpers (executemany on SQLite
with indexes built afterwards, COPY on PostgreSQL in a scratch schema dropped at the end).
Timed, median and min of `--repeat` runs after one warm-up, each on its own:
- `BudgetGuard.check` with only the monthly deployment budget: "one budget check" (the engine
  runs it before each call, and `SpendAlerts` sums the same window again after it);
- `BudgetGuard.check` with all four budgets (daily, monthly, channel daily, user daily);
- `spent()` for each of the four budgets alone (the query behind each check).
Limits are far above the spend, so every check reads the whole window and passes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import sqlalchemy as sa
    from bot.budget import BudgetGuard, BudgetPolicy, spent, window
    from bot.messages import Incoming

    import bot  # (ruff groups it apart: the new tree has this package)
    from storage.database import create_engine, upgrade
    from storage.ledger import UTC_ZONE, spend_total
except ImportError as error:
    sys.exit(
        f"error: needs the pre-restructure code (run with /work/old/.venv/bin/python): {error}"
    )

OLD_ROOT = Path(bot.__file__).resolve().parents[1]
sys.path.insert(0, str(OLD_ROOT / "bench"))
import bench_spend  # noqa: E402  (the old tree's ledger generator)

LIMIT_NANO = 10**18  # never reached
# The channel and user of the checked message: bench_spend spreads calls over 40 channels and
# 800 users, so their daily budgets read 1/40 and 1/800 of the day.
MESSAGE = Incoming("slack", "W1", "C001", "t1", "U0001", "how do I reset my password?", "ev-1")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def timed(label: str, action: Callable[[], Awaitable[Any]], repeat: int) -> None:
    await action()  # warm the caches: the figure is a steady-state check
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples) * 1000
    print(f"  {label:<58} median {median:9.2f} ms  (min {min(samples) * 1000:.2f}, "
          f"max {max(samples) * 1000:.2f})  load {loadavg()}")  # fmt: skip


async def measure(db: Any, repeat: int) -> None:
    every = BudgetPolicy(daily_nano_usd=LIMIT_NANO, monthly_nano_usd=LIMIT_NANO,
                         channel_daily_nano_usd=LIMIT_NANO, user_daily_nano_usd=LIMIT_NANO,
                         zone=UTC_ZONE)  # fmt: skip
    monthly = BudgetPolicy(monthly_nano_usd=LIMIT_NANO, zone=UTC_ZONE)
    now = datetime.now(UTC)
    for budget in every.budgets(MESSAGE.platform, MESSAGE.workspace, MESSAGE.channel,
                                MESSAGE.user):  # fmt: skip
        win = window(budget.period, now, UTC_ZONE)
        rows = (await spend_total(db, start=win.start, end=win.end, platform=budget.platform,
                                  workspace=budget.workspace, channel=budget.channel,
                                  user=budget.user)).calls  # fmt: skip

        async def one(budget: Any = budget, win: Any = win) -> None:
            await spent(db, budget, win)

        await timed(f"spent(): {budget.label} ({rows:,} calls in window)", one, repeat)
    one_guard = BudgetGuard(db, monthly)
    all_guard = BudgetGuard(db, every)

    async def check_one() -> None:
        verdict = await one_guard.check(MESSAGE)
        assert verdict.block_message is None and verdict.ceiling_tier is None

    async def check_all() -> None:
        verdict = await all_guard.check(MESSAGE)
        assert verdict.block_message is None and verdict.ceiling_tier is None

    await timed("BudgetGuard.check, monthly budget only", check_one, repeat)
    await timed("BudgetGuard.check, all four budgets", check_all, repeat)


def ledger_span(now: datetime) -> tuple[datetime, int]:
    """(end, days) for bench_spend.calls: whole days back from now, inside this month."""
    days = max(1, (now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)).days)
    return now, days


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="calls in the month")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    end, days = ledger_span(datetime.now(UTC))
    print(f"{args.rows:,} calls over the last {days} days (all in {end:%Y-%m}), "
          f"old code at {OLD_ROOT}")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="bench-budget-") as tmp:
        path = Path(tmp) / "budget.db"
        db = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        started = time.perf_counter()
        bench_spend.fill_sqlite(path, args.rows, days, end, args.seed)
        print(f"SQLite: inserted in {time.perf_counter() - started:.1f} s")
        await measure(db, args.repeat)
        await db.dispose()

    if not args.skip_postgres:
        schema = "bench_budget_check"
        admin = create_engine(args.postgres)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            version = await conn.scalar(sa.text("SHOW server_version"))
        db = create_engine(args.postgres, search_path=schema)
        try:
            await upgrade(db)
            started = time.perf_counter()
            await bench_spend.fill_postgres(db, schema, args.rows, days, end, args.seed)
            print(f"PostgreSQL {version}: inserted in {time.perf_counter() - started:.1f} s")
            await measure(db, args.repeat)
        finally:
            await db.dispose()
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
