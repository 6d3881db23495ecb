"""A small, fixed ledger for the dashboard tests: every kind of row the pages show.

Days are local days in ZONE (New York, UTC-5 in November), and some calls sit just either side
of a local midnight whose UTC date differs: a page that counted UTC days would disagree with
`switchboard report` on exactly those. NOW is fixed, so pages (and screenshots) are repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.knowledge_tables import kb_answers_t, kb_citations_t
from storage.learning import Comparison, LearningData
from storage.records import ThreadRef
from storage.tables import (
    calls_t,
    feedback_t,
    judgements_t,
    messages_t,
    threads_t,
)
from tests.bot.experiments.helpers import fixed_ab, routing_file

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=ZONE)  # a Friday afternoon
SECRET_QUESTION = "My card 4111 1111 1111 1111 was charged twice, why?"
MODELS = {
    "budget": ("openai/gpt-4o-mini", 1),
    "balanced": ("openai/gpt-4o", 8),
    "premium": ("anthropic/claude-sonnet-4-5", 20),
    "": ("openai/gpt-4o", 8),  # the fixed strategy: no tier
}
CHANNELS = ("C-billing", "C-help", "C-onboarding", "general")
USERS = ("U-ana", "U-bo", "U-chen", "U-dee", "")


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A local time `day_offset` days from NOW's date, as UTC."""
    day = NOW.date() + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@dataclass
class Seeder:
    """Builds the rows in memory with their ids; `seed` inserts each table in one statement
    (one round trip per row costs seconds on a busy machine). Ids are explicit, so a
    PostgreSQL sequence is not advanced: fine for these read-only tests."""

    rng: random.Random
    threads: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    judgements: list[dict[str, Any]] = field(default_factory=list)

    def thread(self, channel: str, platform: str = "slack", *, created: datetime,
               experiment: str | None = None, variant: str | None = None,
               solved: datetime | None = None) -> int:  # fmt: skip
        number = len(self.threads) + 1
        external = f"17{number:04d}.000{number % 10}"
        ref = ThreadRef(platform, "W1", channel, external)
        self.threads.append({
            "id": number, "key": ref.key, "platform": platform, "workspace": "W1",
            "channel": channel, "external_id": external, "created_at": created,
            "experiment": experiment, "variant": variant, "solved_at": solved,
            "solved_by": "U-ana" if solved else None,
        })  # fmt: skip
        return number

    def message(self, thread: int, role: str, text: str, at: datetime) -> int:
        number = len(self.messages) + 1
        author = "U-ana" if role == "user" else ""
        self.messages.append({"id": number, "thread_id": thread, "role": role, "text": text,
                              "author": author, "created_at": at})  # fmt: skip
        return number

    def call(self, thread: int, question: int, at: datetime, **overrides: Any) -> int:
        tier = overrides.pop("tier", "budget")
        model, price = MODELS[tier]
        tokens_in, tokens_out = self.rng.randrange(200, 3000), self.rng.randrange(50, 800)
        cost = (tokens_in + 4 * tokens_out) * price * 100
        number = len(self.calls) + 1
        values: dict[str, Any] = {
            "id": number, "thread_id": thread, "message_id": question, "answer_id": None,
            "platform": "slack", "workspace": "W1", "channel": "C-help", "user": "U-ana",
            "purpose": "answer", "strategy": "fixed" if tier == "" else "tiered",
            "tier": tier or None, "score": None if tier == "" else round(self.rng.random(), 3),
            "reasons": REASONS[tier], "model_asked": model, "model_served": model,
            "input_tokens": tokens_in, "output_tokens": tokens_out, "cost_nano_usd": cost,
            "cost_source": "reported",
            "baseline_cost_nano_usd": (tokens_in + 4 * tokens_out) * 2500,
            "latency_ms": 300 + self.rng.randrange(2500), "ttft_ms": 200, "status": "ok",
            "error_kind": None, "attempt": 1, "escalation": False, "experiment": None,
            "variant": None, "created_at": at,
        }  # fmt: skip
        values.update(overrides)
        self.calls.append(values)
        return number

    def vote(self, call: int, user: str, value: int) -> None:
        self.feedback.append({"call_id": call, "user": user, "value": value, "updated_at": NOW})

    def judge(self, call: int, score: int | None) -> None:
        self.judgements.append({"call_id": call, "score": score, "created_at": NOW})


REASONS = {
    "budget": "short how-to question; no code or error text",
    "balanced": "mentions an integration/security topic",
    "premium": "long question with a stack trace; asks for a comparison",
    "": "fixed model",
}
Plan = tuple[datetime, Callable[[Seeder], None]]


def _traffic(rng: random.Random) -> list[Plan]:
    """~260 answers over 95 days, a few of them failed, unpriced, estimated or escalated."""
    tiers = ("budget",) * 5 + ("balanced",) * 3 + ("premium",) * 2 + ("",)
    plans: list[Plan] = []
    for i in range(260):
        at = local(-rng.randrange(95), rng.randrange(7, 23), rng.randrange(60))

        def play(s: Seeder, i: int = i, at: datetime = at) -> None:
            channel = CHANNELS[i % len(CHANNELS)]
            platform = "discord" if channel == "general" else "slack"
            solved = at + timedelta(minutes=5) if i % 9 == 0 else None
            thread = s.thread(channel, platform, created=at, solved=solved)
            question = s.message(thread, "user", f"Question {i}: how do I do thing {i}?", at)
            tier = tiers[i % len(tiers)]
            common = {"channel": channel, "platform": platform, "user": USERS[i % len(USERS)]}
            if i % 23 == 0:  # a failure, then the retry that answered
                s.call(thread, question, at, tier=tier, status="error",
                             error_kind="unavailable", cost_nano_usd=0, cost_source="unbilled",
                             baseline_cost_nano_usd=None, input_tokens=None, output_tokens=None,
                             **common)  # fmt: skip
            extra: dict[str, Any] = {}
            if i % 31 == 0:
                extra = {"model_served": "acme/unknown-model", "cost_nano_usd": None,
                         "cost_source": "unpriced"}  # fmt: skip
            elif i % 29 == 0:
                extra = {"cost_source": "estimated"}
            answer_at = at + timedelta(seconds=3)
            call = s.call(thread, question, answer_at, tier=tier,
                                attempt=2 if i % 23 == 0 else 1, **common, **extra)  # fmt: skip
            answer = s.message(thread, "assistant", f"Answer {i}: open Settings.", answer_at)
            s.calls[call - 1]["answer_id"] = answer
            if tier == "budget" or i % 4 == 0:
                s.judge(call, 5 + (i % 5) if tier == "budget" else 8)
            if i % 3 == 0:
                s.vote(call, "U-bo", 1 if i % 7 else -1)
            if tier == "budget" and i % 6 == 0:  # "ask a stronger model"
                s.call(thread, question, answer_at + timedelta(minutes=1), tier="balanced",
                             escalation=True, **common)  # fmt: skip

        plans.append((at, play))
    return plans


def _edges() -> list[Plan]:
    """Calls either side of local midnights whose UTC date differs from the local one."""
    cases = (
        (local(0, 0, 30), "C-billing"),  # today, 05:30 UTC
        (local(-1, 22, 0), "C-billing"),  # yesterday locally, but today's date in UTC
        (local(-1, 23, 59), "C-help"),  # yesterday locally, today in UTC
        (local(-(NOW.day - 1), 0, 10), "C-help"),  # the 1st of the month, just after midnight
        (local(-NOW.day, 23, 30), "C-help"),  # the last day of last month, 1st of this in UTC
    )
    plans: list[Plan] = []
    for at, channel in cases:

        def play(s: Seeder, at: datetime = at, channel: str = channel) -> None:
            thread = s.thread(channel, created=at)
            question = s.message(thread, "user", SECRET_QUESTION, at)
            s.call(thread, question, at, tier="premium", channel=channel, user="U-chen")

        plans.append((at, play))
    return plans


def _experiment() -> list[Plan]:
    """Experiment "ab": 12 threads per variant, B cheaper, similar thumbs."""
    plans: list[Plan] = []
    for i in range(24):
        at = local(-10 + i % 7, 10 + i % 8, i)

        def play(s: Seeder, i: int = i, at: datetime = at) -> None:
            variant = "AB"[i % 2]
            thread = s.thread("C-help", created=at, experiment="ab", variant=variant)
            question = s.message(thread, "user", f"Experiment question {i}", at)
            model = "openai/gpt-4o" if variant == "A" else "openai/gpt-4o-mini"
            price = 8 if variant == "A" else 1
            call = s.call(thread, question, at, tier="", model_asked=model,
                                model_served=model, experiment="ab", variant=variant,
                                cost_nano_usd=(1000 + 37 * i) * price * 100)  # fmt: skip
            s.vote(call, "U-dee", 1 if i % 5 else -1)

        plans.append((at, play))
    return plans


KB_PAGES = (("Billing and invoices", "https://help.acme.test/billing/"),
            ("Signing in", "https://help.acme.test/sign-in/"))  # fmt: skip
KB_GAPS = ("can I get a refund for last month?", "refund policy for annual plans",
           "how long do refunds take", "do you have a status page")  # fmt: skip


def knowledge_rows(s: Seeder) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the knowledge base gave the questions: the first 40 cite a page (3 of 4 the first),
    then the gap questions (each three times, refunds plus one other) are not covered, the last
    of them handed off."""
    questions = [m for m in s.messages if m["role"] == "user"]
    answers: list[dict[str, Any]] = []
    citations: list[dict[str, Any]] = []
    for n, message in enumerate(questions[:40]):
        answers.append(_kb_answer(len(answers) + 1, message, 0.8, "cited"))
        title, url = KB_PAGES[0 if n % 4 else 1]
        citations.append({"answer_id": len(answers), "title": title, "url": url,
                          "path": url.rsplit("/", 2)[-2] + ".md"})  # fmt: skip
    for n, message in enumerate(questions[40:52]):
        message["text"] = KB_GAPS[n % len(KB_GAPS)]
        outcome = "handed_off" if n == 11 else "uncovered"
        answers.append(_kb_answer(len(answers) + 1, message, 0.2, outcome))
    return answers, citations


def _kb_answer(number: int, message: dict[str, Any], confidence: float, outcome: str) -> dict:
    return {"id": number, "message_id": message["id"], "created_at": message["created_at"],
            "platform": "slack", "workspace": "W1", "channel": "C-help",
            "confidence": confidence, "outcome": outcome}  # fmt: skip


async def seed(db: AsyncEngine) -> None:
    """Everything above, in time order (ids grow with time, as in a real ledger)."""
    s = Seeder(random.Random(12))
    for _, play in sorted(_traffic(s.rng) + _edges() + _experiment(), key=lambda p: p[0]):
        play(s)
    answers, citations = knowledge_rows(s)
    tables = ((threads_t, s.threads), (messages_t, s.messages), (calls_t, s.calls),
              (feedback_t, s.feedback), (judgements_t, s.judgements),
              (kb_answers_t, answers), (kb_citations_t, citations))  # fmt: skip
    async with db.begin() as conn:
        for table, rows in tables:
            await conn.execute(sa.insert(table), rows)
    # Shadow comparisons on the first 40 budget answers: 30 judged within a point of premium's.
    # And on the first 36 premium answers, budget answered in the shadow only: 12 within a point.
    budget = [c for c in s.calls if c["tier"] == "budget" and c["purpose"] == "answer"][:40]
    premium = [c for c in s.calls if c["tier"] == "premium" and c["purpose"] == "answer"][:36]
    store = LearningData(db)
    for n, call in enumerate(budget + premium):
        given = n < len(budget)
        cheap_score = (8 if n % 4 else 5) if given else (8 if n % 3 == 0 else 4)
        await store.record_comparison(Comparison(
            call_id=call["id"], thread_id=call["thread_id"], message_id=call["message_id"],
            question="q", context=(), answered_tier="budget" if given else "premium",
            shadow_tier="premium" if given else "budget",
            shadow_model="anthropic/claude-opus-4-5" if given else "openai/gpt-4o-mini",
            shadow_call_id=None, judge_call_id=None,
            answered_score=cheap_score if given else 9, shadow_score=9 if given else cheap_score,
            answered_cost_nano_usd=None, shadow_cost_nano_usd=None, router_version=None,
            router_score=None, created_at=call["created_at"],
        ))  # fmt: skip


def routing_with_experiment(directory: Path) -> Path:
    return routing_file(directory, fixed_ab(name="ab", target=10))


SETTINGS: dict[str, Any] = {
    "timezone": ZONE.key,
    "budget_daily_usd": 0.015,
    "budget_monthly_usd": 0.25,
    "budget_channel_daily_usd": 0.01,
    "baseline_model": "anthropic/claude-opus-4-5",
}
