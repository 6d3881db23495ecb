"""The ledger at scale: digest, `spend` and budget checks over a generated call ledger, on
SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_ledger.py [--rows 1000000] [--days 60] [--skip-postgres]
        [--sqlite var/bench_ledger.db] [--postgres postgresql+asyncpg://postgres@127.0.0.1/test]

Two ledgers are generated in turn, each of `--rows` calls:
1. packed into the `--days` days before today's local midnight (Europe/Berlin): the digest of
   yesterday (`build_digest`: every figure, the 14-day chart series; then the chart PNG) and
   `spend --by X` month to date (`Ledger.rollup`);
2. packed into the current month up to now: one budget check with all four budgets (daily,
   monthly, channel daily, user daily): the spend meter's read of a period from the ledger (what
   a replica does once per period and every BUDGET_REFRESH_S in the background), then
   `BudgetGuard.check` as each message runs it (from memory), and `Ledger.spend_total` (one
   budget's SUM, what the guard ran per budget per message before).

The ledger is synthetic: models, prices and latencies come from the simulator's labelled
profiles; token counts from a seeded generator. Rows are bulk-inserted with the schema at
migration 0004 (executemany on SQLite, COPY on PostgreSQL), then migrated to the head, which
sums the hourly totals once (timed: what upgrading an existing ledger costs). `--keep` leaves
the data in place, so `DATABASE_URL=sqlite+aiosqlite:///var/bench_ledger.db switchboard digest`
can read it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.llm.simulator_profiles import DEFAULT_PROFILES  # noqa: E402
from bot.conversation.messages import Incoming  # noqa: E402
from bot.spend.budget import BudgetGuard  # noqa: E402
from bot.spend.chart import spend_chart  # noqa: E402
from bot.spend.digest import build_digest  # noqa: E402
from bot.spend.meter import SpendMeter  # noqa: E402
from bot.spend.policy import BudgetPolicy, spent, window  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.ledger import Ledger  # noqa: E402
from storage.records import digest as key_of  # noqa: E402
from storage.rollups import local_days  # noqa: E402

ZONE = ZoneInfo("Europe/Berlin")
BASELINE = "anthropic/claude-opus-4-5"
TIERS = {
    "budget": ["openai/gpt-4o-mini", "google/gemini-2.0-flash", "mistral/mistral-small-latest"],
    "balanced": ["openai/gpt-4o", "anthropic/claude-haiku-4-5"],
    "premium": ["anthropic/claude-sonnet-4-5", "anthropic/claude-opus-4-5"],
}
TIER_SHARE = ("budget",) * 6 + ("balanced",) * 3 + ("premium",)
CHANNELS, THREADS, USERS = 40, 20_000, 800
CALL_COLUMNS = (
    "thread_id",
    "message_id",
    "platform",
    "workspace",
    "channel",
    "user",
    "purpose",
    "strategy",
    "tier",
    "reasons",
    "model_asked",
    "model_served",
    "input_tokens",
    "output_tokens",
    "cost_nano_usd",
    "cost_source",
    "baseline_cost_nano_usd",
    "latency_ms",
    "status",
    "attempt",
    "escalation",
    "created_at",
)


def threads(n: int) -> Iterator[tuple[int, str, str, str, str, str]]:
    for i in range(1, n + 1):
        platform = "slack" if i % 3 else "discord"
        channel = f"C{i % CHANNELS:03d}"
        yield i, key_of(platform, "W1", channel, f"t{i}"), platform, "W1", channel, f"t{i}"


def calls(n: int, start: datetime, end: datetime, seed: int) -> Iterator[tuple[Any, ...]]:
    """`n` call rows spread evenly over [start, end) (oldest first)."""
    rng = random.Random(seed)
    # Nano-dollars per token (list prices are per million tokens: x 1e9 / 1e6 = x 1000).
    per_token = {
        m: (int(p.input_usd_per_mtok * 1000), int(p.output_usd_per_mtok * 1000))
        for m, p in DEFAULT_PROFILES.items()
    }
    base_in, base_out = per_token[BASELINE]
    step = (end - start) / n
    for i in range(n):
        tier = TIER_SHARE[i % len(TIER_SHARE)]
        model = TIERS[tier][i % len(TIERS[tier])]
        profile = DEFAULT_PROFILES[model]
        tokens_in = rng.randrange(200, 4000)
        tokens_out = rng.randrange(*profile.answer_tokens)
        error = i % 97 == 0
        unpriced = i % 1009 == 0
        price_in, price_out = per_token[model]
        cost = None if unpriced else 0 if error else tokens_in * price_in + tokens_out * price_out
        source = "unpriced" if unpriced else "unbilled" if error else "reported"
        baseline = None if error else tokens_in * base_in + tokens_out * base_out
        latency = profile.first_token_ms + int(tokens_out * 1000 / profile.tokens_per_s)
        thread = 1 + rng.randrange(THREADS)
        yield (
            thread,
            thread,
            "slack" if thread % 3 else "discord",
            "W1",
            f"C{thread % CHANNELS:03d}",
            f"U{rng.randrange(USERS):04d}",
            "answer",
            "tiered",
            tier,
            "",
            model,
            None if error else model,
            None if error else tokens_in,
            None if error else tokens_out,
            cost,
            source,
            baseline,
            latency,
            "error" if error else "ok",
            1,
            False,
            start + step * i,
        )


def fill_sqlite(path: Path, rows: int, start: datetime, end: datetime, seed: int) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    # Bulk load without the call indexes, then build them once: much faster than row by row.
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls'"
        " AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    with db:
        db.executemany(
            "INSERT INTO threads (id, key, platform, workspace, channel, external_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, '2026-01-01 00:00:00.000000')",
            threads(THREADS),
        )
        db.executemany(
            "INSERT INTO messages (id, thread_id, role, text, author, created_at) "
            "VALUES (?, ?, 'user', 'q', '', '2026-01-01 00:00:00.000000')",
            ((i, i) for i in range(1, THREADS + 1)),
        )
        marks = ", ".join("?" * len(CALL_COLUMNS))
        as_text = (  # the storage format SQLAlchemy's SQLite DateTime reads and compares
            (*row[:-1], row[-1].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
            for row in calls(rows, start, end, seed)
        )
        db.executemany(f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES ({marks})", as_text)
    with db:
        for _, sql in indexes:
            db.execute(sql)
    db.execute("ANALYZE")
    db.close()


async def fill_postgres(
    engine: Any, schema: str, rows: int, start: datetime, end: datetime, seed: int
) -> None:
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        created = datetime(2026, 1, 1, tzinfo=UTC)
        await raw.copy_records_to_table(
            "threads",
            schema_name=schema,
            records=[(*t, created) for t in threads(THREADS)],
            columns=("id", "key", "platform", "workspace", "channel", "external_id", "created_at"),
        )
        await raw.copy_records_to_table(
            "messages",
            schema_name=schema,
            columns=("id", "thread_id", "role", "text", "author", "created_at"),
            records=[(i, i, "user", "q", "", created) for i in range(1, THREADS + 1)],
        )
        await raw.copy_records_to_table(
            "calls", schema_name=schema, columns=CALL_COLUMNS, records=calls(rows, start, end, seed)
        )
        await raw.execute(f'ANALYZE "{schema}".calls')
        await conn.commit()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def timed(label: str, action: Callable[[], Awaitable[Any]], repeat: int = 5) -> float:
    await action()  # warm the cache: the figure is a steady-state query time
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    print(f"  {label:<52} median {median * 1000:9.2f} ms  (min {min(samples) * 1000:.2f})"
          f"   load {loadavg()}")  # fmt: skip
    return median


async def measure_digest(engine: Any, end: datetime) -> None:
    ledger = Ledger(engine)
    day = (end - timedelta(hours=1)).astimezone(ZONE).date()
    month = local_days(day.replace(day=1), day, ZONE)

    async def digest() -> None:
        await build_digest(ledger, day, ZONE, baseline_model=BASELINE)

    await timed(f"digest for {day} (every figure, 14-day series)", digest)
    data = await build_digest(ledger, day, ZONE, baseline_model=BASELINE)

    async def chart() -> None:
        spend_chart(data.chart_days, data.chart_series, data.zone)

    await timed("digest chart (PNG)", chart)
    for by in ("channel", "model", "tier", "user", "day"):

        async def spend(by: Any = by) -> None:
            await ledger.rollup(start=month[0].start, end=month[-1].end, by=(by,), zone=ZONE)

        await timed(f"spend --by {by} (month to date, {len(month)} days)", spend)


HUGE = 10**15  # budgets that never trip: every one is checked
POLICY = BudgetPolicy(daily_nano_usd=HUGE, monthly_nano_usd=HUGE, channel_daily_nano_usd=HUGE,
                      user_daily_nano_usd=HUGE, zone=ZONE)  # fmt: skip


async def measure_budget(engine: Any, now: datetime) -> None:
    ledger = Ledger(engine)
    message = Incoming("slack", "W1", "C001", "t1", "U0001", "hi", "e1")
    budgets = POLICY.budgets("slack", "W1", "C001", "U0001")

    async def meter_read() -> None:
        meter = SpendMeter(ledger, POLICY, clock=lambda: now)
        guard = BudgetGuard(meter, POLICY, clock=lambda: now)
        await guard.check(message.asker)  # reads the day and the month

    await timed("meter: read both periods from the ledger (cold)", meter_read)
    meter = SpendMeter(ledger, POLICY, refresh_s=3600, clock=lambda: now)
    guard = BudgetGuard(meter, POLICY, clock=lambda: now)

    async def checks() -> None:
        for _ in range(1000):
            await guard.check(message.asker)

    per_thousand = await timed("1,000 budget checks, 4 budgets each (memory)", checks)
    print(f"  {'= one budget check':<52} {per_thousand:13.4f} ms")
    monthly = next(b for b in budgets if b.period == "month")

    async def one_sum() -> None:
        await spent(ledger, monthly, window("month", now, ZONE))

    await timed("one monthly budget summed from the ledger (totals)", one_sum)


async def load(args: argparse.Namespace, label: str, rows: int, start: datetime,
               end: datetime) -> list[tuple[str, Any]]:  # fmt: skip
    """The ledger in each database, migrated to the head (the totals summed once)."""
    days = (end - start).total_seconds() / 86400
    print(f"\n{label}: {rows:,} calls over {days:.1f} days, {THREADS:,} threads, "
          f"{CHANNELS} channels, {USERS} users")  # fmt: skip
    found: list[tuple[str, Any]] = []
    remove_sqlite(args.sqlite)
    engine = create_engine(f"sqlite+aiosqlite:///{args.sqlite}")
    await upgrade(engine, "0004")
    started = time.perf_counter()
    fill_sqlite(args.sqlite, rows, start, end, args.seed)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    await upgrade(engine)
    print(f"SQLite {sqlite3.sqlite_version}: inserted in {loaded:.1f} s, totals summed by the "
          f"migration in {time.perf_counter() - started:.1f} s")  # fmt: skip
    found.append(("SQLite", engine))
    if not args.skip_postgres:
        schema = "bench_ledger"
        admin = create_engine(args.postgres)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            version = await conn.scalar(sa.text("SHOW server_version"))
        await admin.dispose()
        pg = create_engine(args.postgres, search_path=schema)
        await upgrade(pg, "0004")
        started = time.perf_counter()
        await fill_postgres(pg, schema, rows, start, end, args.seed)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        await upgrade(pg)
        async with pg.begin() as conn:
            await conn.execute(sa.text("ANALYZE"))
        print(f"PostgreSQL {version}: inserted in {loaded:.1f} s, totals summed by the "
              f"migration in {time.perf_counter() - started:.1f} s")  # fmt: skip
        found.append(("PostgreSQL", pg))
    return found


async def drop(args: argparse.Namespace, engines: list[tuple[str, Any]]) -> None:
    for name, engine in engines:
        await engine.dispose()
        if args.keep:
            continue
        if name == "SQLite":
            remove_sqlite(args.sqlite)
        else:
            admin = create_engine(args.postgres)
            async with admin.begin() as conn:
                await conn.execute(sa.text('DROP SCHEMA "bench_ledger" CASCADE'))
            await admin.dispose()


def remove_sqlite(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sqlite", type=Path, default=ROOT / "var" / "bench_ledger.db")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", choices=("digest", "budget"), help="one of the two ledgers")
    parser.add_argument("--keep", action="store_true", help="keep the (last) generated data")
    args = parser.parse_args()
    now = datetime.now(UTC)
    if args.only != "budget":
        local_midnight = now.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
        end = local_midnight.astimezone(UTC)  # the ledger ends where today begins
        engines = await load(args, "digest ledger", args.rows,
                             end - timedelta(days=args.days), end)  # fmt: skip
        for name, engine in engines:
            print(name)
            await measure_digest(engine, end)
        await drop(args, engines)
    if args.only != "digest":
        month_start = now.astimezone(ZONE).replace(day=1, hour=0, minute=0, second=0,
                                                   microsecond=0).astimezone(UTC)  # fmt: skip
        engines = await load(args, "budget ledger (this month so far)", args.rows,
                             month_start, now - timedelta(seconds=1))  # fmt: skip
        for name, engine in engines:
            print(name)
            await measure_budget(engine, now)
        await drop(args, engines)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
