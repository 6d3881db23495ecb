"""tune(): the held-back slice never reaches the fit, the guard refuses what it cannot show is
better, and a tuned model survives a JSON round trip exactly."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence

import pytest

from routing.analyzer.scorer import Analysis, QueryAnalyzer
from routing.learning import (
    BaseMismatchError,
    LabelledExample,
    TunedAnalyzer,
    TuneResult,
    TuneSettings,
    in_holdout,
    tune,
)
from routing.learning.metrics import Outcome, compare, point_metrics
from routing.learning.replay import Replay, hidden_rule_replay, shuffled_labels
from routing.training.evaluation import apgr, cpt

QUICK = TuneSettings(rounds=200)  # fewer bootstrap rounds where the guard is not under test


@pytest.fixture(scope="module")
def replay(clinc: dict[str, list[str]]) -> Replay:
    return hidden_rule_replay(clinc, seed=0)


@pytest.fixture(scope="module")
def tuned(base: QueryAnalyzer, replay: Replay) -> TuneResult:
    return tune(base, replay.labelled, seed=0)


def test_result_reports_counts_metrics_and_reason(tuned: TuneResult, replay: Replay) -> None:
    held = sum(in_holdout(ex.text, 0.2) for ex in replay.labelled)
    assert tuned.held_out == {"shadow": held}
    assert tuned.used == {"shadow": len(replay.labelled) - held}
    assert tuned.comparison is not None
    before, after = tuned.comparison.before, tuned.comparison.after
    gain = tuned.comparison.apgr_gain
    for interval in (before.apgr, after.apgr, before.cpt50, after.savings, gain):
        assert interval.low <= interval.estimate <= interval.high
    assert tuned.adopted and tuned.reason.startswith("adopted: APGR on")


def test_held_back_labels_never_reach_the_fit(base: QueryAnalyzer, replay: Replay) -> None:
    """Flip every held-back label: the measured model must not change at all."""
    flipped = [
        dataclasses.replace(ex, needs_premium=1.0 - ex.needs_premium,
                            cheap_quality=ex.premium_quality, premium_quality=ex.cheap_quality)
        if in_holdout(ex.text, 0.2) else ex
        for ex in replay.labelled
    ]  # fmt: skip
    measured = dataclasses.replace(QUICK, refit_on_all=False)
    first = tune(base, replay.labelled, seed=0, settings=measured)
    second = tune(base, flipped, seed=0, settings=measured)
    assert first.model == second.model
    assert first.comparison != second.comparison  # ... while the measurement did change
    # Only the training part is counted in the model's vocabulary.
    assert (first.model or {})["questions"] == sum(first.used.values())


def test_an_adopted_model_is_refitted_on_every_label(base: QueryAnalyzer, replay: Replay) -> None:
    measured = tune(
        base, replay.labelled, seed=0, settings=dataclasses.replace(QUICK, refit_on_all=False)
    )
    adopted = tune(base, replay.labelled, seed=0, settings=QUICK)
    assert adopted.adopted and adopted.comparison == measured.comparison  # the same measurement
    assert (adopted.model or {})["questions"] == len(replay.labelled)
    assert adopted.reason.endswith(f"refitted on all {len(replay.labelled)} labels")


def test_a_repeated_question_stays_on_one_side(base: QueryAnalyzer, replay: Replay) -> None:
    """Asked again with other case and punctuation, a question cannot leak into the held-back
    slice through its copy."""
    copies = [dataclasses.replace(ex, text=ex.text.upper() + "?!") for ex in replay.labelled[:80]]
    for ex, copy in zip(replay.labelled[:80], copies, strict=True):
        assert in_holdout(ex.text, 0.2) == in_holdout(copy.text, 0.2)


def test_noise_labels_are_refused(base: QueryAnalyzer, replay: Replay) -> None:
    # The guard under test: with labels shuffled across questions, nothing can be learned.
    for seed in range(3):
        result = tune(base, shuffled_labels(replay.labelled, seed), seed=seed)
        assert result.model is not None and result.comparison is not None
        assert not result.adopted, result.reason
        assert result.reason.startswith("kept the current model")


def test_cannot_beat_a_perfect_current_router(base: QueryAnalyzer, replay: Replay) -> None:
    held = {ex.text: ex.needs_premium for ex in replay.labelled if in_holdout(ex.text, 0.2)}

    class Oracle:
        def score(self, text: str, thread_context: Sequence[str] = ()) -> Analysis:
            return Analysis(held.get(text, 0.0), ("oracle",))

    result = tune(base, replay.labelled, seed=0, current=Oracle(), settings=QUICK)
    assert not result.adopted
    assert result.comparison is not None and result.comparison.apgr_gain.estimate <= 0


def test_too_few_labels_are_not_judged(base: QueryAnalyzer, replay: Replay) -> None:
    result = tune(base, replay.labelled[:20], seed=0)
    assert not result.adopted and result.model is None and "not enough labels" in result.reason
    few = tune(base, replay.labelled[:60], seed=0)
    assert not few.adopted and few.model is not None and "held-back" in few.reason
    with pytest.raises(ValueError, match="nothing was fitted"):
        result.analyzer(base)


def test_json_round_trip_loses_nothing(
    base: QueryAnalyzer, tuned: TuneResult, replay: Replay
) -> None:
    model = tuned.analyzer(base)
    text = json.dumps(model.to_json())
    again = TunedAnalyzer.from_json(json.loads(text), base)
    assert json.dumps(again.to_json()) == text
    assert again.correction == model.correction
    questions = [q.text for q in replay.fresh[:150]] + ["why?", "", "thanks!"]
    for question in questions:
        assert again.score(question) == model.score(question)
        assert again.score("still broken", [question]) == model.score("still broken", [question])


def test_a_correction_for_other_weights_is_refused(base: QueryAnalyzer, tuned: TuneResult) -> None:
    raw = dict(tuned.model or {}, base_fingerprint="0123456789abcdef")
    with pytest.raises(BaseMismatchError, match="tune again"):
        TunedAnalyzer.from_json(raw, base)
    with pytest.raises(ValueError, match="not a switchboard-correction"):
        TunedAnalyzer.from_json({"format": "something else"}, base)


def test_one_pass_metrics_match_the_reference_definitions() -> None:
    rng = random.Random(3)
    for _ in range(100):
        n = rng.randint(2, 30)
        scores = [rng.choice([0.1, 0.5, rng.random()]) for _ in range(n)]
        weak = [rng.random() for _ in range(n)]
        strong = [rng.random() for _ in range(n)]
        if sum(strong) <= sum(weak):
            continue
        got = point_metrics(scores, [Outcome(w, s) for w, s in zip(weak, strong, strict=True)])
        assert got.apgr == pytest.approx(apgr(scores, weak, strong))
        assert got.cpt50 == pytest.approx(cpt(scores, weak, strong, 0.5))


def test_savings_at_quality_on_a_hand_example() -> None:
    # Two questions need premium (cheap quality 0), eight do not; premium costs 10, cheap 1.
    outcomes = [Outcome(0.0, 1.0, 1.0, 10.0)] * 2 + [Outcome(1.0, 1.0, 1.0, 10.0)] * 8
    perfect = [1.0, 1.0] + [0.0] * 8
    # Both hard ones to premium: cost 2 x 10 + 8 x 1 = 28 of 100.
    assert point_metrics(perfect, outcomes).savings == pytest.approx(0.72)
    # Reversed: quality reaches 95% only when everything goes premium.
    assert point_metrics([1.0 - s for s in perfect], outcomes).savings == pytest.approx(0.0)


def test_bootstrap_is_seeded() -> None:
    outcomes = [Outcome(float(i % 3 != 0), 1.0) for i in range(60)]
    scores = [random.Random(i).random() for i in range(60)]
    first = compare(scores, scores[::-1], outcomes, seed=5, rounds=200)
    assert first == compare(scores, scores[::-1], outcomes, seed=5, rounds=200)
    assert first != compare(scores, scores[::-1], outcomes, seed=6, rounds=200)


def test_weightless_examples_are_ignored(base: QueryAnalyzer, replay: Replay) -> None:
    ignored = [LabelledExample(f"noise {i}", weight=0.0, needs_premium=1.0) for i in range(50)]
    result = tune(base, [*replay.labelled, *ignored], seed=0, settings=QUICK)
    assert sum(result.used.values()) + sum(result.held_out.values()) == len(replay.labelled)
