"""Retrieval-aware routing, at the pure level: the knowledge base's confidence moves a tuned
router's score only by the weight `tune` learned from labels that carry it; a dependence in the
labels is learned, its absence is not (a simulated judge: the labels below are made up)."""

from __future__ import annotations

import json
import random

import pytest

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning import LabelledExample, TunedAnalyzer, example_from_comparison, tune
from routing.learning.memory import Memory
from routing.learning.retrieval import learn_weight, shifted

COVERED = "why would followers fail to move?"  # the shipped analyzer scores it 0.52


def test_the_shift_is_monotone_and_nothing_without_a_weight_or_a_retrieval() -> None:
    assert shifted(0.6, 0.9, 0.0) == 0.6 and shifted(0.6, None, 3.0) == 0.6
    assert shifted(0.6, 0.0, 3.0) == 0.6
    lower = [shifted(0.6, r, 3.0) for r in (0.2, 0.5, 0.9)]
    assert lower == sorted(lower, reverse=True) and lower[-1] < 0.6
    assert shifted(0.6, 0.9, -2.0) > 0.6  # a negative weight raises
    assert shifted(0.3, 0.5, 2.0) < shifted(0.6, 0.5, 2.0)  # rankings within a level kept


def _labels(rng: random.Random, depends: bool, n: int = 300) -> tuple[list[float], list[float],
                                                                      list[float]]:  # fmt: skip
    """Scores that know which questions are hard (noisily); with `depends`, a strong passage
    lets the cheap tier match premium on a hard question, else it changes nothing."""
    scores, retrievals, labels = [], [], []
    for _ in range(n):
        retrieval = rng.random()
        hard = rng.random() < 0.6
        needs = hard and not (depends and retrieval > 0.6)
        scores.append(0.4 * hard + 0.6 * rng.random())
        retrievals.append(retrieval)
        labels.append(float(needs))
    return scores, retrievals, labels


def test_a_dependence_is_learned_and_its_absence_is_not() -> None:
    learned = [learn_weight(*_labels(random.Random(seed), True)) for seed in range(5)]
    assert all(w >= 5.0 for w in learned), learned  # measured 6.0-8.5
    null = [learn_weight(*_labels(random.Random(seed), False)) for seed in range(20)]
    # A 95% test on a model that only approximates these labels: 3 of 20 pass, all small.
    assert sum(w == 0.0 for w in null) >= 16 and max(map(abs, null)) < 1.0, null
    # No label was searched (no knowledge base): nothing to learn.
    scores, _, labels = _labels(random.Random(0), True)
    assert learn_weight(scores, [None] * len(scores), labels) == 0.0


def test_the_grid_follows_the_confidences_scale() -> None:
    """`Retrieval.confidence` may change scale: the same labels on a scale ten times larger
    learn a weight ten times smaller, and score alike."""
    scores, retrievals, labels = _labels(random.Random(1), True)
    weight = learn_weight(scores, retrievals, labels)
    assert weight > 0
    assert learn_weight(scores, [10 * r for r in retrievals], labels) == pytest.approx(
        weight / 10, rel=0.01
    )


@pytest.fixture(scope="module")
def searched_labels() -> list[LabelledExample]:
    """120 judged questions of 30 kinds; a third were searched with a strong passage, and then
    the cheap answer matched premium, whatever the question."""
    rng = random.Random(7)
    topics = [f"topic{n} setting{n % 7} export{n % 5}" for n in range(30)]
    labels = []
    for n in range(120):
        strong = rng.random() < 0.35
        needs = (not strong) and rng.random() < 0.8
        cheap, premium = (0.2, 0.9) if needs else (0.85, 0.9)
        text = f"how does {topics[n % 30]} work for case {rng.randrange(10_000)}?"
        labels.append(example_from_comparison(text, cheap, premium,
                                              retrieval=0.9 if strong else 0.1))  # fmt: skip
    return labels


def test_tune_learns_the_weight_and_the_router_applies_it(
    base: QueryAnalyzer, searched_labels: list[LabelledExample]
) -> None:
    result = tune(base, searched_labels, seed=0)
    assert result.with_retrieval == 120 and result.retrieval_weight > 0, result.reason
    assert f"retrieval weight {result.retrieval_weight:+.2f} from 120 labels" in result.reason
    tuned = result.analyzer(base)
    plain = tuned.score(COVERED).score
    strong = tuned.score(COVERED, (), 0.9)
    assert strong.score < plain - 0.1
    assert strong.reasons[0] == "the docs' answer to it (retrieval confidence 0.90) scores it lower"
    assert tuned.score(COVERED, (), 0.0) == tuned.score(COVERED)
    assert base.score(COVERED, (), 0.9) == base.score(COVERED)  # no hand-set discount
    # Stored with the version, and read back exactly.
    again = TunedAnalyzer.from_json(json.loads(json.dumps(result.model)), base)
    assert again.memory.retrieval_weight == result.retrieval_weight
    assert again.score(COVERED, (), 0.9) == strong


def test_labels_without_a_retrieval_learn_no_weight(
    base: QueryAnalyzer, searched_labels: list[LabelledExample]
) -> None:
    plain = [LabelledExample(ex.text, needs_premium=ex.needs_premium,
                             cheap_quality=ex.cheap_quality, premium_quality=ex.premium_quality)
             for ex in searched_labels]  # fmt: skip
    result = tune(base, plain, seed=0)
    assert result.retrieval_weight == 0.0 and result.with_retrieval == 0
    assert "retrieval weight" not in result.reason


def test_a_version_from_before_retrieval_weights_still_loads(base: QueryAnalyzer) -> None:
    raw = Memory.of(["how do I export my data?"], [1.0], [1.0]).to_json()
    del raw["retrieval_weight"]
    tuned = TunedAnalyzer.from_json(raw, base)
    assert tuned.memory.retrieval_weight == 0.0
    assert tuned.score(COVERED, (), 1.0) == tuned.score(COVERED)


def test_a_negative_retrieval_is_refused() -> None:
    with pytest.raises(ValueError, match="retrieval must be a finite number >= 0"):
        LabelledExample("q", retrieval=-0.1)
