"""Engine overhead per message of the wired app: what `switchboard run` builds, minus the LLM.

Run: .venv/bin/python bench/bench_wired_engine.py [--budgets 0 4] [--messages 1000]
        [--strategy tiered] [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]
        [--profile N] [--kb DIR]

The app comes from `adapters.composition.build` (budget guard and spend meter, spend alerts,
Prometheus metrics, model health; the `tiered` strategy unless `--strategy`), on SQLite in a
temporary directory (and on PostgreSQL in a scratch schema with `--postgres`). Only the
provider is swapped: an in-process instant provider that yields three deltas and a result with
usage and a reported cost at once, and times itself. Budgets (0-4 of daily, monthly, channel
daily, user daily) are far above any spend: each is checked before the call, held (`block`),
and checked again by the alerts after it, but never trips.

Overhead = `Engine.handle` wall time minus the time inside the provider. 20 warm-up messages,
then N sequential messages over 50 threads (so history is read). `cpu` is the process's CPU
time per message (every thread, the provider's share included): on a shared machine the wall
time is mostly waiting to be scheduled, the CPU time is what the path costs (its mean, and
its percentiles per message: the CPU tail is the path's own, e.g. a WAL checkpoint or a garbage
collection). `--profile N`
prints the top N functions (cProfile, `--sort`) of the run. `--kb DIR` indexes a folder of
documents first (`kb add`'s path, into the app's database), so that every message is also
searched in the knowledge base and answered with its passages, as with a knowledge base in use.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from adapters.cli.commands.run import settle_start_up  # noqa: E402
from adapters.composition import build  # noqa: E402
from bot.conversation.messages import AnswerMeta, Incoming, ReplyLimits  # noqa: E402
from bot.llm.types import ChatRequest, StreamResult, Usage  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.database import create_engine  # noqa: E402

BUDGET_FIELDS = ("budget_daily_usd", "budget_monthly_usd", "budget_channel_daily_usd",
                 "budget_user_daily_usd")  # fmt: skip


class InstantProvider:
    """Answers every request at once; sums the seconds spent inside `stream`."""

    def __init__(self) -> None:
        self.seconds = 0.0

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        started = time.perf_counter()
        try:
            for piece in ("Go to ", "Settings, ", "Security."):
                yield piece
            yield StreamResult("Go to Settings, Security.", request.model, Usage(40, 6),
                               Decimal("0.0000096"), 0, 0, "stop")  # fmt: skip
        finally:
            self.seconds += time.perf_counter() - started


class NullReply:
    limits = ReplyLimits(max_chars=4000, min_edit_interval_s=0.0)

    async def start(self) -> None:
        pass

    async def append(self, text: str) -> None:
        pass

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        return [f"post-{meta.call_id}"]

    async def fail(self, message: str) -> None:
        raise RuntimeError(message)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def incoming(n: int, thread: str) -> Incoming:
    return Incoming("slack", "T1", f"C{n % 5}", thread, f"U{n % 7}",
                    f"Question {n}: how do I reset my password?", f"ev-{thread}-{n}")  # fmt: skip


async def scratch_schema(url: str) -> tuple[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    return schema, admin


async def index(app: Any, folder: str) -> None:
    from adapters.knowledge.library import Library

    library = Library.over(app.stores.db, app.settings)
    try:
        report = await library.ingest.add([folder], "default", None)
    finally:
        await library.close()
    print(f"  knowledge base: {report.added} documents, {report.passages:,} passages")


async def measure(budgets: int, args: argparse.Namespace, postgres: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-wired-") as tmp:
        overrides: dict[str, Any] = {name: 1_000_000.0 for name in BUDGET_FIELDS[:budgets]}
        db, schema, admin = None, None, None
        if postgres:
            schema, admin = await scratch_schema(postgres)
            db = create_engine(postgres, search_path=schema)
        settings = Settings(_env_file=None, data_dir=Path(tmp), llm_api_key="bench",  # type: ignore[call-arg]
                            routing_strategy=args.strategy, budget_action="block",
                            **overrides)  # fmt: skip
        provider = InstantProvider()
        app = await build(settings, db=db, provider=provider, notifiers=[])
        if args.kb:
            await index(app, args.kb)
        settle_start_up()  # as `switchboard run` does once it is started
        try:
            for n in range(20):
                await app.engine.handle(incoming(n, "warm"), NullReply())
            overheads, cpus = [], []
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            cpu_started = time.process_time()
            for n in range(args.messages):
                before = provider.seconds
                started, cpu_before = time.perf_counter(), time.process_time()
                outcome = await app.engine.handle(incoming(n, f"seq-{n % 50}"), NullReply())
                wall = time.perf_counter() - started
                cpus.append((time.process_time() - cpu_before) * 1000)
                if outcome.status != "answered":
                    raise RuntimeError(f"message {n}: {outcome}")
                overheads.append((wall - (provider.seconds - before)) * 1000)
            cpu_ms = (time.process_time() - cpu_started) * 1000 / args.messages
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)
        finally:
            await app.close()
            if admin is not None:
                async with admin.begin() as conn:
                    await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                await admin.dispose()
    return {"p50": pct(overheads, 0.5), "p95": pct(overheads, 0.95),
            "p99": pct(overheads, 0.99), "mean": sum(overheads) / len(overheads),
            "cpu": cpu_ms, "cpu p50": pct(cpus, 0.5), "cpu p99": pct(cpus, 0.99)}  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    print(f"{args.messages} messages after 20 warm-up, strategy {args.strategy}, budget guard "
          "(block) + spend meter + alerts + metrics + health observers wired"
          + (f", knowledge base {args.kb}" if args.kb else ""))  # fmt: skip
    print(f"{'database':<11}{'budgets':<9}{'p50':>9}{'p95':>9}{'p99':>9}{'mean':>9}{'cpu':>9}"
          f"{'cpu p50':>9}{'cpu p99':>9}  (ms; p50-mean: wall overhead; cpu: process CPU per "
          "message, all threads, mean and percentiles)   load average")  # fmt: skip
    for name, url in (("SQLite", None), ("PostgreSQL", args.postgres)):
        if name == "PostgreSQL" and not url:
            continue
        for budgets in args.budgets:
            figures = await measure(budgets, args, url)
            cells = "".join(f"{figures[k]:>9.2f}" for k in ("p50", "p95", "p99", "mean", "cpu",
                                                            "cpu p50", "cpu p99"))
            print(f"{name:<11}{budgets:<9}{cells}   {loadavg()}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budgets", type=int, nargs="+", default=[0, 4], choices=range(5))
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--strategy", default="tiered")
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (scratch schema)")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--sort", default="cumulative", help="profile order (e.g. tottime)")
    parser.add_argument("--kb", help="index this folder first: every message searches it")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
