"""SIMULATION: an A/B experiment played through the real engine against the LLM simulator.

Variant A answers with `sim/standard`, variant B with `sim/lean`: the same simulated model
(same answer lengths) at 60% of the price, so B costs 40% less with the same quality. Users
are simulated too, and labelled so (feedback source "simulation"): a seeded process gives each
answer a thumbs-up with the SAME probability in both variants, sometimes asks a follow-up and
sometimes marks the thread solved. An optional judge scores a sample of answers.

    .venv/bin/python bench/ab_simulation.py --database var/ab.db --threads 700
    ROUTING_FILE=var/ab_routing.toml .venv/bin/switchboard ab report sim-price --database \
        var/ab.db

The script writes the routing file it used next to the database, so the report command reads
the same experiment. It starts from an empty database and, by default, plays one thread at a
time and waits for the background judge after each answer: call ids (and so the judge's
sample, picked by a hash of the call id) come out the same on every run, and so does the
report (latencies aside). `--concurrency 8` is faster, but the judge then scores a different
sample each run.
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.cli.console import ConsoleReply
from adapters.composition import Switchboard, build
from adapters.llm.simulator import LLMSimulator
from adapters.llm.simulator_profiles import (
    DEFAULT_PROFILES,
    ModelProfile,
    answer_text,
    last_user_text,
    seeded_rng,
)
from bot.conversation.messages import Incoming
from bot.experiments.judge import JUDGE_PROMPT
from bot.settings import Settings
from routing.config import DEFAULT_ROUTING_FILE
from storage.database import create_engine

EXPERIMENT = "sim-price"
STANDARD = ModelProfile("sim/standard", Decimal("2.50"), Decimal("10.00"), 500, 60.0, (80, 260))
LEAN = ModelProfile("sim/lean", Decimal("1.50"), Decimal("6.00"), 500, 60.0, (80, 260))
PROFILES = {**DEFAULT_PROFILES, STANDARD.name: STANDARD, LEAN.name: LEAN}
JUDGE_MODEL = "openai/gpt-4o-mini"
QUESTIONS = (
    "How do I reset my password?",
    "Why was I charged twice this month?",
    "Can I export my data to CSV?",
    "The app crashes when I upload a large file, what can I do?",
    "How do I add a teammate to my workspace?",
    "Where can I download last year's invoices?",
)


def experiment_toml(target: int) -> str:
    return f"""
[[experiments]]
name = "{EXPERIMENT}"
target_threads = {target}
variants = [
  {{name = "A", strategy = "fixed", model = "{STANDARD.name}"}},
  {{name = "B", strategy = "fixed", model = "{LEAN.name}"}},
]
"""


def write_routing(path: Path, target: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8") + experiment_toml(target))
    return path


def simulated_answer(body: dict[str, Any]) -> str:
    """Both variants' models say the same thing (same quality, same length: only the price
    differs); a simulated judge replies with a score that depends on the question only."""
    messages = body["messages"]
    if messages and messages[0]["content"] == JUDGE_PROMPT:
        question = last_user_text(messages).split("ANSWER:")[0]
        score = 6 + seeded_rng("judge", question).randrange(4)
        return f"Score: {score}\nA simulated judgement."
    return answer_text(STANDARD, last_user_text(messages), 0)


class SimulatedUsers:
    """SIMULATION: seeded users whose behaviour does not depend on the variant."""

    def __init__(
        self,
        seed: int,
        thumbs_up: float = 0.97,
        follow_up: float = 0.25,
        solved: float = 0.4,
        settle: bool = False,
    ) -> None:
        self.seed, self.thumbs_up, self.follow_up, self.solved = seed, thumbs_up, follow_up, solved
        # settle: wait for the background judge after each answer, so call ids (and with them
        # the judge's sample) come out in the same order on every run.
        self.settle = settle

    async def converse(self, app: Switchboard, number: int) -> None:
        rng = seeded_rng("simulated-user", self.seed, number)
        thread = f"sim-{self.seed}-{number}"
        question = f"{QUESTIONS[rng.randrange(len(QUESTIONS))]} (ticket {rng.randrange(10**6)})"
        outcome = await self._ask(app, thread, question, f"{thread}-1")
        if outcome is None:
            return
        value = 1 if rng.random() < self.thumbs_up else -1
        await app.ops.feedback_on_call(outcome, "sim-user", value, source="simulation")
        if rng.random() < self.follow_up:
            await self._ask(app, thread, "Thanks. And how long does that take?", f"{thread}-2")
        if rng.random() < self.solved:
            await app.ops.solved("console", "local", "help", thread, "sim-user")

    async def _ask(self, app: Switchboard, thread: str, text: str, event: str) -> int | None:
        incoming = Incoming("console", "local", "help", thread, "sim-user", text, event)
        outcome = await app.engine.handle(incoming, ConsoleReply(echo=False))
        if self.settle and app.judge is not None:
            await app.judge.drain()
        return outcome.meta.call_id if outcome.meta else None


def settings_for(database_url: str, routing: Path, judge_rate: float) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        routing_file=routing,
        llm_api_key="simulated",
        judge_model=JUDGE_MODEL if judge_rate else "",
        judge_sample_rate=judge_rate,
    )


async def simulate(
    app: Switchboard, first: int, count: int, users: SimulatedUsers, concurrency: int = 8
) -> None:
    numbers = iter(range(first, first + count))

    async def worker() -> None:
        for number in numbers:
            await users.converse(app, number)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if app.judge is not None:
        await app.judge.drain()


def fresh_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def main(args: argparse.Namespace) -> None:
    database = Path(args.database)
    fresh_database(database)  # a rerun must not mix with the last one
    routing = write_routing(database.with_name(database.stem + "_routing.toml"), args.target)
    url = f"sqlite+aiosqlite:///{database}"
    async with LLMSimulator(
        seed=args.seed, speed=0.0, profiles=PROFILES, answer_override=simulated_answer
    ) as sim:
        app = await build(
            settings_for(url, routing, args.judge_rate),
            llm_base_url=sim.base_url,
            db=create_engine(url),
        )
        try:
            users = SimulatedUsers(args.seed, settle=args.concurrency == 1)
            await simulate(app, 0, args.threads, users, args.concurrency)
        finally:
            await app.close()
    print(f"{args.threads} simulated threads in {database}; routing file {routing}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="var/ab.db", help="SQLite file to fill")
    parser.add_argument("--threads", type=int, default=700)
    parser.add_argument("--target", type=int, default=300, help="target threads per variant")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--judge-rate", type=float, default=0.1)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="threads played at once (1: reproducible)"
    )
    asyncio.run(main(parser.parse_args()))
