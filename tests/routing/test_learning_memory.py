"""The memory of judged questions: a rewording of a judged question follows its judgement, a
question like nothing judged keeps its base score, lowering needs a close rewording, reasons
say why, threads and acknowledgements behave as in the base, and scoring stays bounded."""

from __future__ import annotations

import time

import pytest

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning import TunedAnalyzer, example_from_comparison, example_from_signal
from routing.learning.crossfit import MemorySettings, balanced_weights, fit_memory
from routing.learning.examples import judge_quality
from routing.learning.memory import Memory
from routing.learning.neighbours import NeighbourIndex, normalised

HARD = [  # this deployment's weak model fails these (a legacy corner of the product)
    "Why was my card payment declined at the shop?",
    "My card payment got declined in a store, why?",
    "The shop declined my card payment, what happened?",
]
EASY = [
    "How do I change the email address on my account?",
    "Where can I download last month's invoice?",
    "What are your opening hours on Sunday?",
    "How do I reset my password?",
    "Can I pay by bank transfer?",
    "How long does delivery take to Spain?",
    "Is there a student discount?",
    "How do I add a second user to the account?",
    "Which browsers do you support?",
    "Can I change my delivery address after ordering?",
]


@pytest.fixture(scope="module")
def tuned(base: QueryAnalyzer) -> TunedAnalyzer:
    examples = [example_from_comparison(t, 0.1, 0.9) for t in HARD]
    examples += [example_from_comparison(t, 0.9, 0.9) for t in EASY]
    return TunedAnalyzer(base, fit_memory(examples, base_fingerprint=base.fingerprint))


def test_a_rewording_of_a_judged_question_moves_and_an_unrelated_one_does_not(
    base: QueryAnalyzer, tuned: TunedAnalyzer
) -> None:
    reworded = "why did a store decline my card payment"
    assert base.score(reworded).score < 0.3
    moved = tuned.score(reworded)
    assert moved.score > 0.8
    assert moved.reasons[0] == "resembles 3 judged questions that needed premium"
    for unrelated in (
        "Prove that the square root of 2 is irrational.",
        "Traceback (most recent call last): KeyError: 'tenant' in sync.py line 12",
        "Zorblax quintuple flange retrofits?",
    ):
        assert tuned.score(unrelated) == base.score(unrelated), unrelated


def test_lowering_needs_a_close_rewording(base: QueryAnalyzer) -> None:
    """Judged fine on the cheap tier: a close rewording comes down, a loose resemblance does
    not (lowering risks quality, raising only costs money)."""
    judged = "Explain step by step how to rotate the SAML signing certificate for SSO"
    examples = [example_from_comparison(judged, 0.9, 0.9)]
    examples += [example_from_comparison(t, 0.9, 0.9) for t in EASY]
    tuned = TunedAnalyzer(base, fit_memory(examples))
    close = "explain step by step how to rotate our SAML signing certificate for SSO"
    assert base.score(close).score > 0.4
    lowered = tuned.score(close)
    assert lowered.score < base.score(close).score - 0.2
    assert lowered.reasons[0].endswith("judged questions a cheaper tier answered well")
    loose = "Explain how certificate pinning works in mobile apps, step by step"
    assert tuned.score(loose).score >= base.score(loose).score


def test_follow_ups_inherit_the_tuned_thread_and_acks_stay_capped(tuned: TunedAnalyzer) -> None:
    hard = "why did a store decline my card payment"
    alone = tuned.score("didn't work")
    follow_up = tuned.score("didn't work", [hard])
    assert follow_up.score >= tuned.score(hard).score - 1e-9 > alone.score
    assert follow_up.reasons[0] == "follow-up in a hard thread"
    assert tuned.score("thanks!", [hard]).score <= 0.05


def test_scoring_stays_bounded_on_hostile_input(tuned: TunedAnalyzer) -> None:
    for text in ("x" * 200_000, "why " * 50_000, "\ud800" * 1000, "", "   "):
        start = time.perf_counter()
        result = tuned.score(text, [text])
        assert 0.0 <= result.score <= 1.0
        assert time.perf_counter() - start < 0.05


def test_the_index_finds_rewordings_first() -> None:
    texts = [normalised(t) for t in [*HARD, *EASY]]
    index = NeighbourIndex(texts)
    found = index.nearest(normalised("card payment declined at a shop why").split(), 3)
    assert {position for _, position in found} == {0, 1, 2}
    assert all(0.0 < cosine <= 1.0 for cosine, _ in found)
    assert index.nearest(normalised(HARD[0]).split(), 1)[0] == pytest.approx((1.0, 0))
    assert index.nearest(["zorblax"], 5) == []


def test_user_signals_are_balanced_and_judged_comparisons_kept() -> None:
    signals = [example_from_signal(f"escalated {i}", "escalation") for i in range(8)]
    signals += [example_from_signal(f"approved {i}", "thumbs_up") for i in range(2)]
    judged = example_from_comparison("judged", 0.2, 0.9, weight=1.0)
    weights = balanced_weights([*signals, judged])
    up = sum(w for ex, w in zip(signals, weights, strict=False) if ex.needs_premium)
    down = sum(w for ex, w in zip(signals, weights, strict=False) if not ex.needs_premium)
    assert up == pytest.approx(down) and weights[-1] == 1.0


def test_skipped_questions_pull_as_if_never_judged(tuned: TunedAnalyzer) -> None:
    """The guard scores each group with the others' labels by skipping its positions."""
    memory = tuned.memory
    words = normalised("why did a store decline my card payment").split()
    assert memory.pull(words).needed == 3
    assert memory.pull(words, frozenset({0, 2})).needed == 1  # HARD[0] and HARD[2] skipped
    assert memory.pull(words, frozenset({0, 1, 2})).needed == 0
    # With every judged question skipped, nothing pulls at all.
    everyone = frozenset(range(len(memory.texts)))
    assert memory.pull(words, everyone) == memory.pull([], frozenset())


def test_a_one_point_lead_pulls_less_than_a_decisive_one(base: QueryAnalyzer) -> None:
    """A judged lead of one point in three is mostly the judge's noise: it pulls as 1/9, a lead
    of two as 4/9, a decisive one (three points or more) as 1; user signals as they are."""
    judged = "Why was my card payment declined at the shop?"
    reworded = "why did a store decline my card payment"
    assert base.score(reworded).score < 0.1
    seven = judge_quality(7.0)
    sharpened, plain = [], []
    for premium in (judge_quality(8.0), judge_quality(9.0), judge_quality(10.0)):
        examples = [example_from_comparison(judged, seven, premium)]
        examples += [example_from_comparison(t, 0.9, 0.9) for t in EASY]
        memory = fit_memory(examples)
        assert memory.pulls[0] == pytest.approx(memory.labels[0] ** 2)
        sharpened.append(TunedAnalyzer(base, memory).score(reworded).score)
        unsharpened = fit_memory(examples, MemorySettings(label_power=1.0))
        plain.append(TunedAnalyzer(base, unsharpened).score(reworded).score)
    assert plain[0] == pytest.approx(1 / 3, abs=0.1) and sharpened[0] < plain[0] / 2
    assert plain[1] == pytest.approx(2 / 3, abs=0.1) and sharpened[1] < plain[1] * 0.75
    assert sharpened[2] == plain[2] > 0.9
    escalated = fit_memory([example_from_signal(judged, "escalation")])
    assert list(escalated.pulls) == [1.0]


def test_a_version_from_before_sharpened_labels_pulls_with_its_labels(base: QueryAnalyzer) -> None:
    raw = Memory.of(["Why was my card payment declined at the shop?"], [1 / 3], [1.0]).to_json()
    assert raw["label_power"] == 2.0
    del raw["label_power"]
    older = TunedAnalyzer.from_json(raw, base)
    assert older.memory.label_power == 1.0
    assert older.memory.pulls[0] == older.memory.labels[0] == pytest.approx(1 / 3, abs=1e-4)
    assert older.score("why did a store decline my card payment").score == pytest.approx(
        1 / 3, abs=0.03
    )
