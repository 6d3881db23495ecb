"""The learning loop end to end, through the real engine: traffic answered by tiered routing, a
sample shadowed and judged (or users escalating), `router tune` on what was stored, and the
active version routing fresh wordings.

SIMULATION, labelled as such: the questions are real customer wordings (clinc150 intents), but
which intents "need premium" is a seeded random rule the router is not told, and the scripted
judge scores each answer from that rule (routing/learning/replay.py has the distributions).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path

import pytest

from adapters.cli import replay as replay_cli
from adapters.cli.console import ConsoleReply
from adapters.composition import Switchboard
from bot.learning.labels import LabelWeights, collect
from bot.learning.versions import RouterVersions
from bot.llm.pricing import estimate_tokens
from bot.llm.types import ChatRequest, StreamResult, Usage
from routing.config import load_routing
from routing.learning.replay import JUDGE, Replay, Traffic, hidden_rule_replay, measure
from routing.training.datasets import load_intents
from tests.conftest import Database, MakeApp

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
JUDGE_MODEL = "anthropic/claude-haiku-4-5"  # not any tier's first model
TIERS = load_routing().tiers
PREMIUM = TIERS["premium"][0]
SHADOW_RATE = 0.3  # a deployment in its learning phase ($2.91 per 1,000 questions, docs/routing.md)
QUESTIONS = 1000


@pytest.fixture(scope="module")
def clinc() -> dict[str, list[str]]:
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    return load_intents(DATA, "clinc150")


class ScriptedWorld:
    """SIMULATION: every model answers "answer by <model>"; the judge model scores the two
    answers of a shadow comparison from the hidden rule (or at random, `noise=True`)."""

    def __init__(self, needs_premium: dict[str, bool], seed: int, noise: bool = False) -> None:
        self.needs_premium, self.seed, self.noise = needs_premium, seed, noise

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        text = self._verdict(request) if request.model == JUDGE_MODEL else (
            f"answer by {request.model}")  # fmt: skip
        yield text
        prompt = sum(estimate_tokens(m.content) + 4 for m in request.messages)
        yield StreamResult(text, request.model, Usage(prompt, 40), None, 1, 1)

    def _verdict(self, request: ChatRequest) -> str:
        body = request.messages[-1].content
        question = body.split("QUESTION:\n", 1)[1].split("\n\nANSWER A:", 1)[0]
        first = body.split("ANSWER A:\n", 1)[1].split("\n\nANSWER B:", 1)[0]
        rng = random.Random(f"{self.seed}:{question}")
        needs = self.needs_premium.get(question, False)
        if self.noise:
            needs = rng.random() < 0.5
        (cheap_mean, cheap_sd), (premium_mean, premium_sd) = JUDGE[needs]
        cheap = min(max(round(rng.gauss(cheap_mean, cheap_sd)), 1), 10)
        premium = min(max(round(rng.gauss(premium_mean, premium_sd)), 1), 10)
        a, b = (premium, cheap) if first == f"answer by {PREMIUM}" else (cheap, premium)
        return f"A: {a}\nB: {b}"


async def play(app: Switchboard, texts: Sequence[str], concurrency: int = 1) -> None:
    pending = iter(enumerate(texts))

    async def worker() -> None:
        for number, text in pending:
            line = replay_cli.Line(str(number), text, f"t{number}", "help")
            assert (await replay_cli.answer(app, line, "replay"))["status"] == "answered"

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert app.shadow is not None
    await app.shadow.drain()


def rule_of(replay: Replay, clinc: dict[str, list[str]]) -> dict[str, bool]:
    intent_of = {text: name for name, texts in clinc.items() for text in texts}
    return {ex.text: intent_of[ex.text] in replay.premium_intents for ex in replay.labelled}


async def tuned_on_traffic(
    make_app: MakeApp, db: Database, replay: Replay, world: ScriptedWorld
) -> tuple[Switchboard, RouterVersions]:
    app: Switchboard = await make_app(
        db, provider_=world, routing_strategy="tiered", shadow_sample_rate=SHADOW_RATE,
        judge_model=JUDGE_MODEL, judge_sample_rate=0.0,
    )  # fmt: skip
    await play(app, [ex.text for ex in replay.labelled])
    return app, app.versions


async def test_judged_shadow_traffic_teaches_the_router_a_rule_it_is_not_told(
    sqlite_db: Database, make_app: MakeApp, clinc: dict[str, list[str]]
) -> None:
    replay = hidden_rule_replay(clinc, seed=0, traffic=Traffic(labelled=QUESTIONS))
    app, versions = await tuned_on_traffic(
        make_app, sqlite_db, replay, ScriptedWorld(rule_of(replay, clinc), seed=0)
    )
    comparisons = await app.stores.learning.comparisons()
    assert abs(len(comparisons) / QUESTIONS - SHADOW_RATE) < 0.05  # the sample rate held
    fresh = replay.fresh
    before = measure([app.routing.scorer.score(q.text)[0].score for q in fresh], fresh)
    labels = await collect(app.stores.learning, LabelWeights())
    tuned = await versions.tune(labels, seed=0)
    assert tuned.result.adopted, tuned.result.reason
    assert app.routing.scorer.version == tuned.version, "live traffic scores with it at once"
    after = measure([app.routing.scorer.score(q.text)[0].score for q in fresh], fresh)
    print(
        f"gain ratio {before.gain_ratio:.3f} -> {after.gain_ratio:.3f}; savings at 95% "
        f"quality {before.savings:.3f} -> {after.savings:.3f}; {tuned.result.reason}"
    )
    assert before.gain_ratio < 0.2
    assert after.gain_ratio >= 0.9
    assert after.savings >= 2 * before.savings
    # New traffic records the version that routed it.
    line = replay_cli.Line("new", fresh[0].text, "t-new", "help")
    assert (await replay_cli.answer(app, line, "replay"))["router_version"] == tuned.version


async def test_noise_labels_are_refused_and_the_active_router_stays(
    sqlite_db: Database, make_app: MakeApp, clinc: dict[str, list[str]]
) -> None:
    # A judge that scores at random: ~180 labels, enough to fit and to judge, none of them true.
    replay = hidden_rule_replay(clinc, seed=0, traffic=Traffic(labelled=600))
    world = ScriptedWorld(rule_of(replay, clinc), seed=0, noise=True)
    app, versions = await tuned_on_traffic(make_app, sqlite_db, replay, world)
    tuned = await versions.tune(await collect(app.stores.learning, LabelWeights()), seed=0)
    assert not tuned.result.adopted, tuned.result.reason
    assert app.routing.scorer.version is None
    assert tuned.result.reason.startswith("kept the current model"), tuned.result.reason


async def test_escalations_alone_move_the_router_on_what_was_escalated(
    sqlite_db: Database, make_app: MakeApp, clinc: dict[str, list[str]]
) -> None:
    """No judge: users click "ask a stronger model" on some cheap answers to the kinds of
    questions that need premium, and give a 👍 or "Solved" to some good cheap answers."""
    replay = hidden_rule_replay(clinc, seed=1, traffic=Traffic(labelled=QUESTIONS))
    needs = rule_of(replay, clinc)
    app: Switchboard = await make_app(
        sqlite_db, provider_=ScriptedWorld(needs, seed=1), routing_strategy="tiered"
    )
    rng = random.Random(1)
    escalated: set[str] = set()
    for number, example in enumerate(replay.labelled):
        line = replay_cli.Line(str(number), example.text, f"t{number}", "help")
        result = await replay_cli.answer(app, line, "replay")
        if result["tier"] == "premium":
            continue
        call_id = result["call_id"]
        roll = rng.random()
        if needs[example.text] and roll < 0.4:
            outcome = await app.engine.escalate(call_id, "agent", ConsoleReply(echo=False))
            assert outcome.status == "answered"
            escalated.add(example.text)
        elif not needs[example.text] and roll < 0.15:
            await app.ops.feedback_on_call(call_id, "user", 1)
    labels = await collect(app.stores.learning, LabelWeights())
    assert {ex.kind for ex in labels} == {"escalation", "thumbs_up"}
    score = app.routing.scorer.score
    asked = [ex.text for ex in replay.labelled if ex.text in escalated]
    paraphrases = [q.text for q in replay.fresh if q.needs_premium]
    others = [q.text for q in replay.fresh if not q.needs_premium]
    before = [[score(t)[0].score for t in texts] for texts in (asked, paraphrases, others)]
    tuned = await app.versions.tune(labels, seed=0)
    assert tuned.result.adopted, tuned.result.reason
    after = [[score(t)[0].score for t in texts] for texts in (asked, paraphrases, others)]
    rise = [sum(a) / len(a) - sum(b) / len(b) for a, b in zip(after, before, strict=True)]
    print(
        f"mean score rise: escalated {rise[0]:+.3f}, their paraphrases {rise[1]:+.3f}, "
        f"other kinds {rise[2]:+.3f}; {tuned.result.reason}"
    )
    assert rise[0] >= 0.3 and rise[1] >= 0.3
    assert rise[1] >= rise[2] + 0.2
