"""Digest and `spend` aggregation time over a generated call ledger, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_spend.py [--rows 1000000] [--days 60]
        [--sqlite var/bench_spend.db] [--postgres postgresql+asyncpg://postgres@127.0.0.1/test]

The ledger is synthetic: models, prices and latencies come from the simulator's labelled
profiles (adapters/llm/simulator_profiles.py); token counts come from a seeded generator. Rows
are bulk-inserted (executemany on SQLite, COPY on PostgreSQL). `--keep` leaves the data in
place, so `DATABASE_URL=sqlite+aiosqlite:///var/bench_spend.db switchboard digest` can read it.
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
from bot.spend.digest import build_digest  # noqa: E402
from storage.conversations import digest as key_of  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.ledger import local_days, rollup  # noqa: E402

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


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def threads(n: int) -> Iterator[tuple[int, str, str, str, str, str]]:
    for i in range(1, n + 1):
        platform = "slack" if i % 3 else "discord"
        channel = f"C{i % CHANNELS:03d}"
        yield i, key_of(platform, "W1", channel, f"t{i}"), platform, "W1", channel, f"t{i}"


def calls(n: int, days: int, end: datetime, seed: int) -> Iterator[tuple[Any, ...]]:
    """`n` call rows spread evenly over `days` days before `end` (oldest first)."""
    rng = random.Random(seed)
    # Nano-dollars per token (list prices are per million tokens: x 1e9 / 1e6 = x 1000).
    per_token = {
        m: (int(p.input_usd_per_mtok * 1000), int(p.output_usd_per_mtok * 1000))
        for m, p in DEFAULT_PROFILES.items()
    }
    base_in, base_out = per_token[BASELINE]
    step = timedelta(days=days) / n
    start = end - timedelta(days=days)
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


def fill_sqlite(path: Path, rows: int, days: int, end: datetime, seed: int) -> None:
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
            for row in calls(rows, days, end, seed)
        )
        db.executemany(f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES ({marks})", as_text)
    with db:
        for _, sql in indexes:
            db.execute(sql)
    db.execute("ANALYZE")
    db.close()


async def fill_postgres(
    engine: Any, schema: str, rows: int, days: int, end: datetime, seed: int
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
            "calls", schema_name=schema, columns=CALL_COLUMNS, records=calls(rows, days, end, seed)
        )
        await raw.execute(f'ANALYZE "{schema}".calls')
        await conn.commit()


async def timed(label: str, action: Callable[[], Awaitable[Any]], repeat: int = 5) -> float:
    await action()  # warm the cache: the figure is a steady-state query time
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    print(f"  {label:<42} median {median * 1000:8.1f} ms  (min {min(samples) * 1000:.1f}, "
          f"max {max(samples) * 1000:.1f})  load {loadavg()}")  # fmt: skip
    return median


async def measure(engine: Any, end: datetime) -> None:
    day = (end - timedelta(hours=1)).astimezone(ZONE).date()
    month = local_days(day.replace(day=1), day, ZONE)

    async def digest() -> None:
        await build_digest(engine, day, ZONE, baseline_model=BASELINE)

    await timed(f"digest for {day} (all figures + 14-day chart)", digest)
    for by in ("channel", "model", "tier", "user", "day"):

        async def spend(by: Any = by) -> None:
            await rollup(engine, start=month[0].start, end=month[-1].end, by=(by,), zone=ZONE)

        await timed(f"spend --by {by} (month to date, {len(month)} days)", spend)


def remove_sqlite(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sqlite", type=Path, default=ROOT / "var" / "bench_spend.db")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()
    local_midnight = datetime.now(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    end = local_midnight.astimezone(UTC)  # the ledger ends where today begins: yesterday is full
    print(f"{args.rows:,} calls over {args.days} days, {THREADS:,} threads, {CHANNELS} channels")

    remove_sqlite(args.sqlite)
    engine = create_engine(f"sqlite+aiosqlite:///{args.sqlite}")
    await upgrade(engine)
    started = time.perf_counter()
    fill_sqlite(args.sqlite, args.rows, args.days, end, args.seed)
    print(f"SQLite {sqlite3.sqlite_version}: inserted in {time.perf_counter() - started:.1f} s")
    await measure(engine, end)
    await engine.dispose()
    if not args.keep:
        remove_sqlite(args.sqlite)

    if not args.skip_postgres:
        schema = "bench_spend"
        admin = create_engine(args.postgres)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            version = await conn.scalar(sa.text("SHOW server_version"))
        engine = create_engine(args.postgres, search_path=schema)
        await upgrade(engine)
        started = time.perf_counter()
        await fill_postgres(engine, schema, args.rows, args.days, end, args.seed)
        print(f"PostgreSQL {version}: inserted in {time.perf_counter() - started:.1f} s")
        await measure(engine, end)
        await engine.dispose()
        if not args.keep:
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
