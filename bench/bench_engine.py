"""Engine overhead per message, throughput with 100 concurrent threads, and history-load time.

Run: .venv/bin/python bench/bench_engine.py [--messages 1000] [--loads 500] [--provider P]

Everything runs against SQLite in a temporary directory. The provider is either `instant`
(default: an in-process httpx transport that answers every request at once with a canned Eden
AI stream: role, three content chunks, stop, usage and cost, [DONE]) or `simulator` (the
loopback LLM simulator at speed=0, in its own process, so a real HTTP round trip). Overhead =
`Engine.handle` wall time minus the time spent inside `ProviderClient.stream`, measured per
message by a timing subclass of the real client.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from adapters.llm.openai_client import ProviderClient  # noqa: E402
from bot.conversation.engine import Engine, EngineConfig  # noqa: E402
from bot.conversation.messages import AnswerMeta, Incoming, ReplyLimits  # noqa: E402
from bot.experiments.config import ExperimentPicker  # noqa: E402
from bot.llm.dispatch import Dispatcher, RetryPolicy  # noqa: E402
from bot.llm.pricing import Pricer  # noqa: E402
from bot.llm.types import ChatRequest, OnDelta, StreamResult  # noqa: E402
from routing.strategy import FixedStrategy  # noqa: E402
from storage.conversations import Conversations, ThreadRef  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.tables import messages_t, utcnow  # noqa: E402


class TimedClient(ProviderClient):
    """The real client; also sums the seconds spent inside `stream` (the provider's share)."""

    provider_s = 0.0

    async def stream(self, request: ChatRequest, on_delta: OnDelta) -> StreamResult:
        started = time.perf_counter()
        try:
            return await super().stream(request, on_delta)
        finally:
            self.provider_s += time.perf_counter() - started


CANNED_STREAM = "".join(
    f"data: {line}\n\n"
    for line in (
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant"}}]}',
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Go to "}}]}',
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Settings, "}}]}',
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Security."}}]}',
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        '{"model":"openai/gpt-4o-mini","choices":[],"usage":{"prompt_tokens":40,'
        '"completion_tokens":6,"total_tokens":46},"cost":0.0000096}',
        "[DONE]",
    )
).encode()


def instant_provider(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=CANNED_STREAM, headers={"content-type": "text/event-stream"})


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


SIMULATOR = """
import asyncio, sys
from adapters.llm.simulator import LLMSimulator
async def serve():
    async with LLMSimulator(seed=1, speed=0) as sim:
        print(sim.base_url, flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the benchmark closes our stdin
asyncio.run(serve())
"""


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def build(db: AsyncEngine, client: TimedClient) -> Engine:
    return Engine(
        Conversations(db),
        Dispatcher(client, RetryPolicy()),
        ExperimentPicker(db, (), {"fixed": FixedStrategy("openai/gpt-4o-mini")}, "fixed"),
        Pricer(),
        EngineConfig(system_prompt="You are a support assistant."),
    )


def incoming(n: int, thread: str) -> Incoming:
    return Incoming("slack", "T1", "C1", thread, "U1", f"Question {n}: how do I reset my password?",
                    f"ev-{thread}-{n}")  # fmt: skip


async def overhead(engine: Engine, client: TimedClient, count: int) -> dict[str, float]:
    # Warm up connections, statement caches and the pricer.
    for n in range(20):
        await engine.handle(incoming(n, "warm"), NullReply())
    totals, overheads = [], []
    for n in range(count):
        before = client.provider_s
        started = time.perf_counter()
        outcome = await engine.handle(incoming(n, f"seq-{n % 50}"), NullReply())
        wall = time.perf_counter() - started
        assert outcome.status == "answered", outcome
        totals.append(wall * 1000)
        overheads.append((wall - (client.provider_s - before)) * 1000)
    return {"handle p50": pct(totals, 0.5), "handle p99": pct(totals, 0.99),
            "overhead p50": pct(overheads, 0.5), "overhead p99": pct(overheads, 0.99),
            "overhead mean": statistics.fmean(overheads)}  # fmt: skip


async def throughput(engine: Engine, threads: int, per_thread: int) -> float:
    async def one_thread(t: int) -> None:
        for n in range(per_thread):  # in order within a thread, as a real conversation
            outcome = await engine.handle(incoming(n, f"conc-{t}"), NullReply())
            assert outcome.status == "answered", outcome

    started = time.perf_counter()
    await asyncio.gather(*(one_thread(t) for t in range(threads)))
    return threads * per_thread / (time.perf_counter() - started)


async def seed_thread(conversations: Conversations, name: str, size: int) -> tuple[int, int]:
    turn = await conversations.start_turn(ThreadRef("slack", "T1", "C9", name), text="first",
                                          author="U1", event_key=f"seed-{name}")  # fmt: skip
    assert turn is not None
    now = utcnow()
    rows = [{"thread_id": turn.thread_id, "role": ("assistant", "user")[i % 2],
             "text": f"message {i} " + "lorem ipsum " * 20, "author": "U1", "created_at": now}
            for i in range(1, size)]  # fmt: skip
    async with conversations.engine.begin() as conn:
        await conn.execute(sa.insert(messages_t), rows)
        last = await conn.scalar(sa.select(sa.func.max(messages_t.c.id)))
    return turn.thread_id, int(last or 0) + 1


async def history_load(conversations: Conversations, loads: int) -> dict[str, float]:
    result = {}
    for size in (10, 10_000):
        thread_id, before = await seed_thread(conversations, f"h{size}", size)
        timings = []
        for _ in range(loads):
            started = time.perf_counter()
            turns = await conversations.recent_turns(thread_id, before_id=before, limit=40)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(turns) == min(size, 40)
        result[f"{size:,} messages p50"] = pct(timings, 0.5)
        result[f"{size:,} messages p99"] = pct(timings, 0.99)
    return result


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await upgrade(db)
        simulator = None
        transport: httpx.AsyncBaseTransport | None = httpx.MockTransport(instant_provider)
        base_url = "http://instant.invalid/v3"
        if args.provider == "simulator":
            simulator = await asyncio.create_subprocess_exec(
                sys.executable, "-c", SIMULATOR, cwd=ROOT,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert simulator.stdout is not None
            base_url = (await simulator.stdout.readline()).decode().strip()
            transport = None
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(limits=limits, transport=transport) as http:
            client = TimedClient(http, base_url, "bench")
            engine = build(db, client)
            seq = await overhead(engine, client, args.messages)
            rate = await throughput(engine, 100, args.per_thread)
            hist = await history_load(engine.conversations, args.loads)
        if simulator is not None and simulator.stdin is not None:
            simulator.stdin.close()
            await simulator.wait()
        await db.dispose()
    print(f"provider: {args.provider}")
    print(f"load average: {loadavg()}")
    print(f"{'measure':<34}{'value':>12}")
    print("-" * 46)
    for name, ms in seq.items():
        print(f"{'engine ' + name + ' (ms)':<34}{ms:>12.2f}")
    print(f"{'messages/s, 100 threads x ' + str(args.per_thread):<34}{rate:>12.1f}")
    for name, ms in hist.items():
        print(f"{'history load ' + name + ' (ms)':<34}{ms:>12.3f}")
    ratio = hist["10,000 messages p50"] / hist["10 messages p50"]
    print(f"{'history long/short p50 ratio':<34}{ratio:>12.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000, help="sequential messages timed")
    parser.add_argument("--per-thread", type=int, default=10, help="messages per concurrent thread")
    parser.add_argument("--loads", type=int, default=500, help="history loads per thread size")
    parser.add_argument("--provider", choices=("instant", "simulator"), default="instant")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
