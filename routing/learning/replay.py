"""Labelled traffic with a hidden rule, for replaying the learning loop (tests, docs, the engine).

SIMULATION, clearly: the questions are real customer wordings (intent paraphrase sets such as
banking77 or clinc150), but which intents "need premium" is a seeded random choice, and the judge
scores and user signals are drawn from the simple distributions below. Nothing here claims how
real models answer these questions; it checks that the loop can learn a rule it is not told.

`hidden_rule_replay` gives judged shadow comparisons; `escalation_replay` gives only what users
do ("ask a stronger model" when the cheap answer failed, sometimes 👍/"Solved" when it did not);
`support_replay` gives judged comparisons where the need for premium mostly follows what the
shipped analyzer expects, except on a fixed share of questions where this deployment's weak
model does the opposite (`issue_replay`: the same rule in the issue's exact shape, 70 questions
with two judged wordings each and a third scored). All return the labelled traffic and fresh
wordings of the same intents, never used in tuning.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from routing.learning.examples import (
    LabelledExample,
    example_from_comparison,
    example_from_signal,
    judge_quality,
)
from routing.learning.metrics import Outcome, point_metrics

# Simulated judge (1-10): mean and spread of each tier's score, by whether the intent needs premium.
JUDGE = {True: ((4.5, 1.2), (8.5, 0.8)), False: ((8.3, 0.9), (8.6, 0.8))}


@dataclass(frozen=True)
class Traffic:
    intents: int | None = 20  # how many intents the deployment sees (None: all)
    premium_share: float = 0.3  # share of those intents that need premium
    labelled: int = 300  # questions that get a label
    fresh: int = 600  # fresh wordings to evaluate on
    zipf: float = 1.0  # traffic per intent ~ 1 / rank**zipf: a few questions dominate
    escalate: float = 0.4  # escalation replay: chance a failed cheap answer is escalated
    stray_escalation: float = 0.03  # ... and that a good one is escalated anyway
    approve: float = 0.15  # ... and that a good cheap answer gets 👍/"Solved"


@dataclass(frozen=True)
class FreshQuestion:
    text: str
    intent: str
    needs_premium: bool

    @property
    def outcome(self) -> Outcome:
        """Ground truth of the hidden rule: the cheap tier fails exactly the premium intents."""
        return Outcome(0.0 if self.needs_premium else 1.0, 1.0)


@dataclass(frozen=True)
class Replay:
    labelled: tuple[LabelledExample, ...]
    fresh: tuple[FreshQuestion, ...]
    premium_intents: frozenset[str]
    intents: tuple[str, ...]


class _Stream:
    """Seeded draws of unused wordings, intent by traffic weight."""

    def __init__(self, intents: Mapping[str, Sequence[str]], traffic: Traffic, rng: random.Random):
        names = sorted(intents)
        if traffic.intents is not None and traffic.intents < len(names):
            names = sorted(rng.sample(names, traffic.intents))
        if len(names) < 2:
            raise ValueError("a replay needs at least two intents")
        order = rng.sample(names, len(names))
        self.weights = {name: 1.0 / (rank + 1) ** traffic.zipf for rank, name in enumerate(order)}
        self.pools = {name: rng.sample(list(intents[name]), len(intents[name])) for name in names}
        premium = max(1, round(traffic.premium_share * len(names)))
        self.premium = frozenset(rng.sample(names, premium))
        self.names = tuple(names)
        self.rng = rng

    def draw(self, among: Sequence[str]) -> tuple[str, str] | None:
        live = [name for name in among if self.pools[name]]
        if not live:
            return None
        name = self.rng.choices(live, [self.weights[n] for n in live])[0]
        return self.pools[name].pop(), name

    def fresh(self, count: int, seen: set[str]) -> tuple[FreshQuestion, ...]:
        among = sorted(seen)
        out = []
        for _ in range(count):
            drawn = self.draw(among)
            if drawn is None:
                break
            out.append(FreshQuestion(drawn[0], drawn[1], drawn[1] in self.premium))
        return tuple(out)


def _judge(rng: random.Random, needs_premium: bool) -> tuple[float, float]:
    (cheap_mean, cheap_sd), (premium_mean, premium_sd) = JUDGE[needs_premium]
    cheap = min(max(round(rng.gauss(cheap_mean, cheap_sd)), 1), 10)
    premium = min(max(round(rng.gauss(premium_mean, premium_sd)), 1), 10)
    return judge_quality(cheap), judge_quality(premium)


def _judged(stream: _Stream, rng: random.Random, traffic: Traffic) -> Replay:
    """`traffic.labelled` judged shadow comparisons, then fresh wordings of the intents seen."""
    labelled, seen = [], set()
    for _ in range(traffic.labelled):
        drawn = stream.draw(stream.names)
        if drawn is None:
            break
        text, name = drawn
        cheap, premium = _judge(rng, name in stream.premium)
        labelled.append(example_from_comparison(text, cheap, premium))
        seen.add(name)
    return Replay(tuple(labelled), stream.fresh(traffic.fresh, seen), stream.premium, stream.names)


def hidden_rule_replay(
    intents: Mapping[str, Sequence[str]], *, seed: int = 0, traffic: Traffic = Traffic()
) -> Replay:
    """A seeded random `premium_share` of the intents needs premium."""
    rng = random.Random(seed)
    return _judged(_Stream(intents, traffic, rng), rng, traffic)


def _support_rule(
    names: Sequence[str], intents: Mapping[str, Sequence[str]], difficulty: Callable[[str], float],
    premium_share: float, twist: float, rng: random.Random,
) -> frozenset[str]:  # fmt: skip
    """What a general router expects (the `premium_share` of questions with the highest mean
    `difficulty` of their first 40 wordings need premium), reversed on a seeded `twist` share."""
    mean = {name: sum(map(difficulty, intents[name][:40])) / len(intents[name][:40])
            for name in names}  # fmt: skip
    ranked = sorted(names, key=lambda name: (-mean[name], name))
    expected = set(ranked[: round(premium_share * len(ranked))])
    twisted = set(rng.sample(sorted(names), round(twist * len(names))))
    return frozenset(name for name in names if (name in expected) != (name in twisted))


def support_replay(
    intents: Mapping[str, Sequence[str]],
    difficulty: Callable[[str], float],
    *,
    seed: int = 0,
    traffic: Traffic = Traffic(intents=200, premium_share=0.35, labelled=140),
    twist: float = 1 / 3,
) -> Replay:
    """A support deployment: `traffic.intents` questions (an intent is a question, its texts its
    wordings), asked with Zipf-like frequencies; the need for premium is `_support_rule`.
    Judged shadow comparisons of `traffic.labelled` questions, then fresh wordings."""
    rng = random.Random(seed)
    stream = _Stream(intents, traffic, rng)
    stream.premium = _support_rule(stream.names, intents, difficulty, traffic.premium_share,
                                   twist, rng)  # fmt: skip
    return _judged(stream, rng, traffic)


def issue_replay(
    intents: Mapping[str, Sequence[str]],
    difficulty: Callable[[str], float],
    *,
    seed: int = 0,
    questions: int = 70,
    judged: int = 2,
    premium_share: float = 0.35,
    twist: float = 1 / 3,
) -> Replay:
    """The issue's exact shape: `questions` seeded questions, `judged` wordings of each judged
    (in a seeded order, as traffic would bring them), and one more wording of each scored;
    the need for premium is `_support_rule` over those questions."""
    rng = random.Random(seed)
    names = sorted(rng.sample(sorted(n for n in intents if len(intents[n]) > judged), questions))
    premium = _support_rule(names, intents, difficulty, premium_share, twist, rng)
    labelled, fresh = [], []
    for name in names:
        texts = rng.sample(list(intents[name]), judged + 1)
        for text in texts[:judged]:
            labelled.append(example_from_comparison(text, *_judge(rng, name in premium)))
        fresh.append(FreshQuestion(texts[judged], name, name in premium))
    rng.shuffle(labelled)
    return Replay(tuple(labelled), tuple(fresh), premium, tuple(names))


def escalation_replay(
    intents: Mapping[str, Sequence[str]], *, seed: int = 0, traffic: Traffic = Traffic()
) -> Replay:
    """Only user signals: of the questions answered cheaply, failed ones are escalated with
    probability `escalate`, good ones get 👍/"Solved" with probability `approve` (or a stray
    escalation). Serves questions until `traffic.labelled` signals have been collected."""
    rng = random.Random(seed)
    stream = _Stream(intents, traffic, rng)
    labelled: list[LabelledExample] = []
    seen: set[str] = set()
    while len(labelled) < traffic.labelled:
        drawn = stream.draw(stream.names)
        if drawn is None:
            break
        text, name = drawn
        seen.add(name)
        roll = rng.random()
        if name in stream.premium:
            if roll < traffic.escalate:
                labelled.append(example_from_signal(text, "escalation"))
        elif roll < traffic.stray_escalation:
            labelled.append(example_from_signal(text, "escalation"))
        elif roll < traffic.stray_escalation + traffic.approve:
            labelled.append(example_from_signal(text, rng.choice(("thumbs_up", "solved"))))
    return Replay(tuple(labelled), stream.fresh(traffic.fresh, seen), stream.premium, stream.names)


def shuffled_labels(examples: Sequence[LabelledExample], seed: int = 0) -> list[LabelledExample]:
    """The same questions with their labels permuted: pure noise with the same label mix."""
    rng = random.Random(seed)
    labels = [(ex.kind, ex.needs_premium, ex.weight, ex.cheap_quality, ex.premium_quality)
              for ex in examples]  # fmt: skip
    rng.shuffle(labels)
    return [
        LabelledExample(ex.text, ex.context, kind, needs, weight, cheap, premium)
        for ex, (kind, needs, weight, cheap, premium) in zip(examples, labels, strict=True)
    ]


def random_labels(examples: Sequence[LabelledExample], seed: int = 0) -> list[LabelledExample]:
    """The same questions, each with the label of a question drawn at random (with
    replacement): pure noise whose label mix varies from draw to draw."""
    rng = random.Random(seed)
    drawn = [rng.choice(examples) for _ in examples]
    return [
        LabelledExample(ex.text, ex.context, other.kind, other.needs_premium, other.weight,
                        other.cheap_quality, other.premium_quality)
        for ex, other in zip(examples, drawn, strict=True)
    ]  # fmt: skip


class Evaluated(Protocol):
    """A question whose outcome per tier is known: a fresh wording or a real benchmark question."""

    @property
    def text(self) -> str: ...
    @property
    def outcome(self) -> Outcome: ...


@dataclass(frozen=True)
class ReplayScore:
    """How a scorer ranks the evaluation questions against what each tier would deliver."""

    apgr: float
    oracle_apgr: float
    gain_ratio: float  # (APGR - 0.5) / (oracle APGR - 0.5): 1 = the rule perfectly, 0 = random
    savings: float  # share of premium calls avoided at 95% of always-premium quality
    mean_premium_score: float  # mean score of the questions where premium does better
    mean_cheap_score: float


def measure(scores: Sequence[float], questions: Sequence[Evaluated]) -> ReplayScore:
    """The oracle ranks by premium's lead (for the hidden rule: 1 on premium intents, else 0)."""
    outcomes = [q.outcome for q in questions]
    leads = [o.premium_quality - o.cheap_quality for o in outcomes]
    got = point_metrics(scores, outcomes)
    oracle = point_metrics(leads, outcomes)
    premium = [s for s, lead in zip(scores, leads, strict=True) if lead > 0]
    cheap = [s for s, lead in zip(scores, leads, strict=True) if lead <= 0]
    return ReplayScore(
        got.apgr,
        oracle.apgr,
        (got.apgr - 0.5) / (oracle.apgr - 0.5),
        got.savings,
        sum(premium) / len(premium),
        sum(cheap) / len(cheap),
    )
