"""Dashboard page times over HTTP on a generated 1M-call ledger, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_dashboard.py [--rows 1000000] [--days 60] [--repeat 5]
        [--sqlite var/bench_dashboard.db] [--postgres postgresql+asyncpg://postgres@127.0.0.1/test]
        [--skip-sqlite] [--skip-postgres] [--keep] [--reuse]

Each page is requested through the real server (`dashboard_service`, as `switchboard dashboard`
wires it) on loopback: one warm-up request, then `--repeat` timed ones; the median and the worst
are printed, with the load average (the machine is shared: figures move with it). The ledger:
`--rows` answer calls spread evenly over `--days` days ending now, each answering its own
question (a message of its thread), 20,000 threads in 40 channels, 800 users, three tiers; 10%
of answers judged, 5% voted on, 2% escalated; the threads of the first half of the period in an
A/B experiment "ab" (two variants). The target is 200 ms per
request. Rows are bulk-loaded (executemany / COPY) with the call indexes built afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.routing_setup import build_routing  # noqa: E402
from adapters.services import dashboard_service  # noqa: E402
from adapters.stores import Stores  # noqa: E402
from bot.settings import Settings  # noqa: E402
from routing.config import DEFAULT_ROUTING_FILE  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.records import digest  # noqa: E402
from storage.rollups import local_days  # noqa: E402

ZONE = "Europe/Berlin"
ZONE_INFO = ZoneInfo(ZONE)
CHANNELS, THREADS, USERS = 40, 20_000, 800
TIERS = {  # tier: (model, nano-dollars per input token, per output token)
    "budget": ("openai/gpt-4o-mini", 150, 600),
    "balanced": ("openai/gpt-4o", 2500, 10_000),
    "premium": ("anthropic/claude-sonnet-4-5", 3000, 15_000),
}
TIER_SHARE = ("budget",) * 6 + ("balanced",) * 3 + ("premium",)
BASELINE = (5000, 25_000)
EXPERIMENT = """
[[experiments]]
name = "ab"
target_threads = 2000
variants = [
  {name = "A", strategy = "fixed", model = "openai/gpt-4o"},
  {name = "B", strategy = "tiered"},
]
"""
CALL_COLUMNS = ("id", "thread_id", "message_id", "platform", "workspace", "channel", "user",
                "purpose", "strategy", "tier", "score", "reasons", "model_asked", "model_served",
                "input_tokens", "output_tokens", "cost_nano_usd", "cost_source",
                "baseline_cost_nano_usd", "latency_ms", "ttft_ms", "status", "attempt",
                "escalation", "experiment", "variant", "created_at")  # fmt: skip


def thread_rows(start: datetime, days: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, THREADS + 1):
        platform = "slack" if i % 3 else "discord"
        channel = f"C{i % CHANNELS:03d}"
        created = start + timedelta(days=days) * (i - 1) / THREADS
        in_ab = i <= THREADS // 2
        variant = ("A" if i % 2 else "B") if in_ab else None
        yield (i, digest(platform, "W1", channel, f"t{i}"), platform, "W1", channel, f"t{i}",
               created, "ab" if in_ab else None, variant)  # fmt: skip


def call_rows(n: int, start: datetime, days: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """`n` answer calls, oldest first; a thread's calls fall after the thread was created."""
    rng = random.Random(seed)
    step = timedelta(days=days) / n
    for i in range(n):
        at = start + step * i
        # Threads are created evenly over the period: pick one created in the last few days.
        newest = max(1, int(THREADS * i / n))
        thread = max(1, newest - rng.randrange(min(newest, 300)))
        tier = TIER_SHARE[i % len(TIER_SHARE)]
        model, per_in, per_out = TIERS[tier]
        tokens_in, tokens_out = rng.randrange(200, 4000), rng.randrange(50, 900)
        error, unpriced = i % 97 == 0, i % 1009 == 0
        cost = None if unpriced else 0 if error else tokens_in * per_in + tokens_out * per_out
        base = None if error else tokens_in * BASELINE[0] + tokens_out * BASELINE[1]
        in_ab = thread <= THREADS // 2
        yield (
            i + 1, thread, i + 1, "slack" if thread % 3 else "discord", "W1",
            f"C{thread % CHANNELS:03d}", f"U{rng.randrange(USERS):04d}", "answer", "tiered",
            tier, round(rng.random(), 3), "mentions an integration/security topic", model,
            None if error else model, None if error else tokens_in,
            None if error else tokens_out, cost,
            "unpriced" if unpriced else "unbilled" if error else "reported", base,
            400 + rng.randrange(3000), 250, "error" if error else "ok", 1, i % 50 == 0,
            "ab" if in_ab else None, ("A" if thread % 2 else "B") if in_ab else None, at,
        )  # fmt: skip


def message_rows(n: int, start: datetime, days: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """The question each call answers: (id, thread, created_at), the call's own id and time."""
    for call in call_rows(n, start, days, seed):
        yield call[0], call[1], call[-1]


def extras(rows: int) -> tuple[list[tuple[int, int]], list[tuple[int, str, int]]]:
    """(judgements: call id, score) for 10% of calls; (feedback: call id, user, vote) for 5%."""
    judged = [(i, 5 + i % 5) for i in range(1, rows + 1, 10)]
    votes = [(i, f"U{i % USERS:04d}", 1 if i % 7 else -1) for i in range(3, rows + 1, 20)]
    return judged, votes


def sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def remove_sqlite(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fill_sqlite(path: Path, rows: int, start: datetime, days: int, seed: int) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                         "tbl_name = 'calls' AND sql IS NOT NULL").fetchall()  # fmt: skip
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    with db:
        db.executemany(
            "INSERT INTO threads (id, key, platform, workspace, channel, external_id, created_at,"
            " experiment, variant) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((*t[:6], sqlite_time(t[6]), *t[7:]) for t in thread_rows(start, days)),
        )
        db.executemany(
            "INSERT INTO messages (id, thread_id, role, text, author, created_at) "
            "VALUES (?, ?, 'user', 'a question', 'U0001', ?)",
            ((m, t, sqlite_time(at)) for m, t, at in message_rows(rows, start, days, seed)),
        )
        marks = ", ".join("?" * len(CALL_COLUMNS))
        db.executemany(
            f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES ({marks})",
            ((*r[:-1], sqlite_time(r[-1])) for r in call_rows(rows, start, days, seed)),
        )
        judged, votes = extras(rows)
        now = sqlite_time(datetime.now(UTC))
        db.executemany("INSERT INTO judgements (call_id, score, created_at) VALUES (?, ?, ?)",
                       ((c, s, now) for c, s in judged))  # fmt: skip
        db.executemany("INSERT INTO feedback (call_id, user, value, source, updated_at) "
                       "VALUES (?, ?, ?, 'reaction', ?)", ((*v, now) for v in votes))  # fmt: skip
    with db:
        for _, sql in indexes:
            db.execute(sql)
    db.execute("ANALYZE")
    db.close()


async def fill_postgres(engine: Any, schema: str, rows: int, start: datetime, days: int,
                        seed: int) -> None:  # fmt: skip
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        copy = raw.copy_records_to_table
        await copy("threads", schema_name=schema, records=list(thread_rows(start, days)),
                   columns=("id", "key", "platform", "workspace", "channel", "external_id",
                            "created_at", "experiment", "variant"))  # fmt: skip
        await copy("messages", schema_name=schema,
                   columns=("id", "thread_id", "role", "text", "author", "created_at"),
                   records=((m, t, "user", "a question", "U0001", at)
                            for m, t, at in message_rows(rows, start, days, seed)))  # fmt: skip
        await copy("calls", schema_name=schema, columns=CALL_COLUMNS,
                   records=call_rows(rows, start, days, seed))  # fmt: skip
        judged, votes = extras(rows)
        now = datetime.now(UTC)
        await copy("judgements", schema_name=schema, columns=("call_id", "score", "created_at"),
                   records=[(*j, now) for j in judged])  # fmt: skip
        await copy("feedback", schema_name=schema,
                   columns=("call_id", "user", "value", "source", "updated_at"),
                   records=[(*v, "reaction", now) for v in votes])  # fmt: skip
        for table in ("threads", "messages", "calls", "judgements", "feedback"):
            await raw.execute(f'ANALYZE "{schema}".{table}')
        await conn.commit()


def pages(now: datetime) -> list[tuple[str, str]]:
    today = now.astimezone(ZONE_INFO).date()
    month = f"since={today.replace(day=1)}&until={today}"
    thirty = f"since={today - timedelta(days=29)}&until={today}"
    found = [("overview (30-day chart)", "/"), ("overview (90-day chart)", "/?days=90")]
    for by in ("channel", "model", "tier", "user", "platform", "strategy"):
        found.append((f"breakdowns by {by}, month to date", f"/breakdowns?by={by}&{month}"))
    found += [
        ("breakdowns by user, 30 days, sorted by calls",
         f"/breakdowns?by=user&{thirty}&sort=calls&order=asc"),
        ("breakdowns CSV by model, 30 days", f"/breakdowns.csv?by=model&{thirty}"),
        ("quality, month to date", f"/quality?{month}"),
        ("quality, 30 days", f"/quality?{thirty}"),
        ("experiments (one, over half the ledger)", "/experiments"),
        ("decisions, latest 50", "/decisions"),
        ("decisions, one channel", "/decisions?channel=slack/W1/C007"),
        ("decisions, premium tier", "/decisions?tier=premium"),
        ("decisions, one channel and tier", "/decisions?channel=slack/W1/C007&tier=premium"),
        ("one thread's turns", f"/threads/{THREADS - 5}"),
    ]  # fmt: skip
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(engine: Any, settings: Settings, now: datetime, repeat: int) -> None:
    port = free_port()
    service = dashboard_service(settings, Stores.over(engine), build_routing(settings), port,
                                lambda: now)  # fmt: skip
    task = asyncio.create_task(service())
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
        for _ in range(500):
            try:
                await client.get("/static/style.css")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.01)
        for label, path in pages(now):
            first = await client.get(path)  # warm-up: caches, templates, first imports
            assert first.status_code == 200, (path, first.status_code, first.text[:300])
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = await client.get(path)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200
            median, worst = statistics.median(samples) * 1000, max(samples) * 1000
            mark = "" if worst < 200 else "   > 200 ms"
            print(f"  {label:<48} median {median:8.1f} ms  max {worst:8.1f} ms{mark}")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await measure_queries(engine, settings, now, repeat)


async def measure_queries(engine: Any, settings: Settings, now: datetime, repeat: int) -> None:
    """The store calls under the pages, timed alone: which part of a page is which query."""
    from bot.experiments.report import build_report
    from storage.decisions import Decisions
    from storage.quality import QualityData

    stores = Stores.over(engine)
    ledger, today = stores.ledger, now.astimezone(ZONE_INFO).date()
    day = local_days(today, today, ZONE_INFO)[0]
    month = local_days(today.replace(day=1), today, ZONE_INFO)
    thirty = local_days(today - timedelta(days=29), today, ZONE_INFO)
    m0, m1, t0, t1 = month[0].start, month[-1].end, thirty[0].start, thirty[-1].end
    experiment = build_routing(settings).experiments[0]
    calls = {
        "Ledger.total (today)": lambda: ledger.total(start=day.start, end=day.end),
        "Ledger.total (month to date)": lambda: ledger.total(start=m0, end=m1),
        "Ledger.rollup by day, tier (30 days)": lambda: ledger.rollup(
            start=t0, end=t1, by=("day", "tier"), zone=ZONE_INFO),
        "Ledger.rollup by channel (today, top 6)": lambda: ledger.rollup(
            start=day.start, end=day.end, by=("platform", "workspace", "channel"), limit=6),
        "Ledger.rollup by user (month to date)": lambda: ledger.rollup(
            start=m0, end=m1, by=("user",), zone=ZONE_INFO),
        "Ledger.quality_counts (month to date)": lambda: ledger.quality_counts(start=m0, end=m1),
        "QualityData.by_tier (month to date)": lambda: QualityData(engine).by_tier(
            start=m0, end=m1),
        "build_report (experiment ab)": lambda: build_report(stores.experiments, experiment, now),
        "Decisions.latest (50)": lambda: Decisions(engine).latest(),
        "Decisions.recent_channels": lambda: Decisions(engine).recent_channels(),
    }  # fmt: skip
    print("  store calls under the pages:")
    for label, call in calls.items():
        await call()
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            await call()
            samples.append(time.perf_counter() - started)
        median = statistics.median(samples) * 1000
        print(f"    {label:<46} median {median:8.1f} ms  max {max(samples) * 1000:8.1f} ms")


async def data_end(engine: Any) -> datetime:
    """The pages' "now": just after the newest call (the ledger ends when it was generated)."""
    async with engine.connect() as conn:
        newest = await conn.scalar(sa.text("SELECT max(created_at) FROM calls"))
    if isinstance(newest, str):  # SQLite keeps text
        newest = datetime.fromisoformat(newest).replace(tzinfo=UTC)
    return newest.astimezone(UTC) + timedelta(seconds=1)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sqlite", type=Path, default=ROOT / "var" / "bench_dashboard.db")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--reuse", action="store_true", help="measure data kept by --keep")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=args.days)
    routing = Path(tempfile.mkdtemp()) / "routing.toml"
    routing.write_text(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8") + EXPERIMENT)
    settings = Settings(_env_file=None, timezone=ZONE, routing_file=routing,  # type: ignore[call-arg]
                        budget_daily_usd=500, budget_monthly_usd=10_000,
                        budget_channel_daily_usd=20)  # fmt: skip
    print(f"{args.rows:,} calls over {args.days} days, {THREADS:,} threads, {CHANNELS} "
          f"channels, {USERS} users; load average {load()}")  # fmt: skip

    if not args.skip_sqlite:
        path = args.sqlite
        if not args.reuse:
            remove_sqlite(path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        if not args.reuse:
            await upgrade(engine)
            started = time.perf_counter()
            fill_sqlite(path, args.rows, start, args.days, args.seed)
            print(f"SQLite {sqlite3.sqlite_version}: loaded in "
                  f"{time.perf_counter() - started:.0f} s; load average {load()}")  # fmt: skip
        await measure(engine, settings, await data_end(engine), args.repeat)
        await engine.dispose()
        if not (args.keep or args.reuse):
            remove_sqlite(path)

    if not args.skip_postgres:
        schema = "bench_dashboard"
        admin = create_engine(args.postgres)
        async with admin.begin() as conn:
            if not args.reuse:
                await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            version = await conn.scalar(sa.text("SHOW server_version"))
        engine = create_engine(args.postgres, search_path=schema)
        if not args.reuse:
            await upgrade(engine)
            started = time.perf_counter()
            await fill_postgres(engine, schema, args.rows, start, args.days, args.seed)
            print(f"PostgreSQL {version}: loaded in {time.perf_counter() - started:.0f} s;"
                  f" load average {load()}")  # fmt: skip
        await measure(engine, settings, await data_end(engine), args.repeat)
        await engine.dispose()
        if not (args.keep or args.reuse):
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
    print(f"load average {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
