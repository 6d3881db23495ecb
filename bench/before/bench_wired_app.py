"""BEFORE (pre-restructure code, commit 6e02e66): engine overhead per message of the wired app.

Run with the OLD tree's venv (its `bot.bootstrap` is imported):
    /work/old/.venv/bin/python bench/before/bench_wired_app.py [--budgets 0 4] [--messages 1000]

The app is the one `switchboard run` builds (`bot.bootstrap.build_app`: budget guard, spend
alerts, Prometheus metrics observer, health observer, the `tiered` strategy unless
`--strategy`), on SQLite in a temporary directory. Only the provider is swapped: the
dispatcher's client is replaced by a timing subclass of the real `ProviderClient` over an
in-process httpx transport that answers every request at once with a canned Eden AI stream.
Budgets (0-4 of daily, monthly, channel daily, user daily) are set far above any spend, so each
is checked (before the call and again by the alerts after it) but never trips.

Overhead = `Engine.handle` wall time minus the time inside `ProviderClient.stream`; "cpu" is
the same with the process's CPU time (all threads, so background work such as WAL checkpoints
lands on the message it overlaps), which other jobs on the machine inflate much less than the
wall time. 20 warm-up messages, then N sequential messages over 50 threads. One fresh app and
database per budget count. This reaches into `engine.dispatcher._client`, a private attribute
of the old code; the post-restructure version of this benchmark belongs to the new tree.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    import httpx
    from bot.bootstrap import build_app
    from bot.messages import AnswerMeta, Incoming, ReplyLimits
    from routing.provider import ChatRequest, OnDelta, ProviderClient, StreamResult

    from bot.settings import Settings  # (ruff groups it apart: the new tree has this module)
except ImportError as error:
    sys.exit(
        f"error: needs the pre-restructure code (run with /work/old/.venv/bin/python): {error}"
    )

BUDGET_FIELDS = ("budget_daily_usd", "budget_monthly_usd", "budget_channel_daily_usd",
                 "budget_user_daily_usd")  # fmt: skip
CANNED_STREAM = "".join(
    f"data: {line}\n\n"
    for line in (
        '{"model":"m","choices":[{"index":0,"delta":{"role":"assistant"}}]}',
        '{"model":"m","choices":[{"index":0,"delta":{"content":"Go to "}}]}',
        '{"model":"m","choices":[{"index":0,"delta":{"content":"Settings, "}}]}',
        '{"model":"m","choices":[{"index":0,"delta":{"content":"Security."}}]}',
        '{"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        '{"model":"m","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":6,'
        '"total_tokens":46},"cost":0.0000096}',
        "[DONE]",
    )
).encode()


def instant_provider(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=CANNED_STREAM, headers={"content-type": "text/event-stream"})


class TimedClient(ProviderClient):  # type: ignore[misc]
    """The real client; also sums the seconds spent inside `stream` (the provider's share)."""

    provider_s = 0.0
    provider_cpu_s = 0.0

    async def stream(self, request: ChatRequest, on_delta: OnDelta) -> StreamResult:
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return await super().stream(request, on_delta)
        finally:
            self.provider_s += time.perf_counter() - started
            self.provider_cpu_s += time.process_time() - started_cpu


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
    return Incoming("slack", "T1", "C1", thread, "U1", f"Question {n}: how do I reset my password?",
                    f"ev-{thread}-{n}")  # fmt: skip


async def measure(budgets: int, args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-wired-") as tmp:
        overrides: dict[str, Any] = {field: 1_000_000.0 for field in BUDGET_FIELDS[:budgets]}
        settings = Settings(_env_file=None, data_dir=Path(tmp), llm_api_key="bench",
                            routing_strategy=args.strategy, **overrides)  # fmt: skip
        app = await build_app(settings)
        http = httpx.AsyncClient(transport=httpx.MockTransport(instant_provider))
        client = TimedClient(http, "http://instant.invalid/v3", "bench")
        app.engine.dispatcher._client = client  # the one swap: an instant, timed provider
        try:
            for n in range(20):
                await app.engine.handle(incoming(n, "warm"), NullReply())
            overheads, cpu = [], []
            for n in range(args.messages):
                before, before_cpu = client.provider_s, client.provider_cpu_s
                started, started_cpu = time.perf_counter(), time.process_time()
                outcome = await app.engine.handle(incoming(n, f"seq-{n % 50}"), NullReply())
                wall = time.perf_counter() - started
                used_cpu = time.process_time() - started_cpu
                if outcome.status != "answered":
                    raise RuntimeError(f"message {n}: {outcome}")
                overheads.append((wall - (client.provider_s - before)) * 1000)
                cpu.append((used_cpu - (client.provider_cpu_s - before_cpu)) * 1000)
        finally:
            await http.aclose()
            await app.close()
    return {"p50": pct(overheads, 0.5), "p95": pct(overheads, 0.95),
            "p99": pct(overheads, 0.99), "mean": sum(overheads) / len(overheads),
            "cpu p50": pct(cpu, 0.5), "cpu p99": pct(cpu, 0.99)}  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    print(f"{args.messages} messages after 20 warm-up, strategy {args.strategy}, SQLite, "
          "budgets + alerts + metrics + health observers wired")  # fmt: skip
    columns = ("p50", "p95", "p99", "mean", "cpu p50", "cpu p99")
    print(f"{'budgets':<9}" + "".join(f"{c:>9}" for c in columns) + "  (ms)   load average")
    for budgets in args.budgets:
        figures = await measure(budgets, args)
        cells = "".join(f"{figures[k]:>9.2f}" for k in columns)
        print(f"{budgets:<9}{cells}   {loadavg()}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=[0, 4],
        choices=range(5),
        help="budget counts to measure, one fresh app each (default: 0 4)",
    )
    parser.add_argument("--messages", type=int, default=1000, help="timed messages (default 1000)")
    parser.add_argument("--strategy", default="tiered", help="ROUTING_STRATEGY (default tiered)")
    args = parser.parse_args()  # fmt: skip
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
