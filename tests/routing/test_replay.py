"""The issue's acceptance, at the pure level: a deployment's labels teach the router a rule it
is not told, and the tuned router applies it to wordings it has never seen.

Traffic: real customer wordings (clinc150, banking77) grouped by intent; a seeded random 30% of
the 20 intents a deployment sees "need premium"; the judge and the users are simulated
(routing/learning/replay.py). Figures measured over more seeds are in docs/routing.md.
"""

from __future__ import annotations

import pytest

from routing.analyzer.scorer import QueryAnalyzer
from routing.config import load_routing
from routing.learning import TunedAnalyzer, TuneResult, TuneSettings, tune
from routing.learning.replay import (
    Replay,
    escalation_replay,
    hidden_rule_replay,
    measure,
    shuffled_labels,
)
from routing.tiers import TIERS

THRESHOLDS = load_routing().thresholds
# Fewer bootstrap rounds: the guard's own rate is measured in docs/routing.md, these tests check
# what the adopted memory does (the decision at 1,000 rounds is the same on these tables).
QUICK = TuneSettings(rounds=200, spread_rounds=100)


@pytest.fixture(scope="module")
def clinc_replay(clinc: dict[str, list[str]]) -> Replay:
    return hidden_rule_replay(clinc, seed=0)


@pytest.fixture(scope="module")
def banking_replay(banking: dict[str, list[str]]) -> Replay:
    return hidden_rule_replay(banking, seed=1)


@pytest.fixture(scope="module")
def clinc_tuned(base: QueryAnalyzer, clinc_replay: Replay) -> TuneResult:
    return tune(base, clinc_replay.labelled, seed=0, settings=QUICK)


@pytest.fixture(scope="module")
def banking_tuned(base: QueryAnalyzer, banking_replay: Replay) -> TuneResult:
    return tune(base, banking_replay.labelled, seed=0, settings=QUICK)


def test_replay_is_seeded_and_fresh_wordings_are_unseen(clinc: dict[str, list[str]]) -> None:
    replay = hidden_rule_replay(clinc, seed=3)
    assert replay == hidden_rule_replay(clinc, seed=3)
    assert replay != hidden_rule_replay(clinc, seed=4)
    assert len(replay.labelled) == 300 and len(replay.fresh) == 600
    assert len(replay.intents) == 20 and len(replay.premium_intents) == 6
    seen = {ex.text for ex in replay.labelled}
    assert not seen & {q.text for q in replay.fresh}
    assert {q.intent for q in replay.fresh} <= set(replay.intents)
    needs = [ex.needs_premium for ex in replay.labelled]
    assert 0.2 < sum(needs) / len(needs) < 0.6  # a noisy judge, not the rule itself


def _hidden_rule(
    base: QueryAnalyzer, replay: Replay, result: TuneResult
) -> tuple[float, float, float, float, bool]:
    tuned = result.analyzer(base)
    before = measure([base.score(q.text).score for q in replay.fresh], replay.fresh)
    after = measure([tuned.score(q.text).score for q in replay.fresh], replay.fresh)
    print(f"gain ratio {before.gain_ratio:.3f} -> {after.gain_ratio:.3f}; savings at 95% "
          f"quality {before.savings:.3f} -> {after.savings:.3f}; {result.reason}")  # fmt: skip
    return before.gain_ratio, after.gain_ratio, before.savings, after.savings, result.adopted


def test_hidden_rule_is_learned_from_judged_shadow_traffic(
    base: QueryAnalyzer, clinc_replay: Replay, clinc_tuned: TuneResult
) -> None:
    gain_before, gain_after, saved_before, saved_after, adopted = _hidden_rule(
        base, clinc_replay, clinc_tuned
    )
    assert gain_before < 0.2  # the shipped analyzer cannot know the rule (measured -0.035)
    assert gain_after >= 0.9  # measured 0.958
    assert saved_after >= 2 * saved_before  # measured 0.133 -> 0.723
    assert adopted


def test_hidden_rule_on_fine_grained_banking_intents(
    base: QueryAnalyzer, banking_replay: Replay, banking_tuned: TuneResult
) -> None:
    """banking77's intents overlap (card arrival / delivery estimate / tracking): harder to tell
    apart from 300 labels. Measured 0.80-0.93 over seeds (docs/routing.md)."""
    gain_before, gain_after, saved_before, saved_after, _ = _hidden_rule(
        base, banking_replay, banking_tuned
    )
    assert gain_before < 0.2
    assert gain_after >= 0.75  # measured 0.918 for this seed
    assert saved_after >= 2 * saved_before


def test_noise_labels_from_the_same_traffic_are_refused(
    base: QueryAnalyzer, banking_replay: Replay, banking_tuned: TuneResult
) -> None:
    assert banking_tuned.adopted
    assert not tune(base, shuffled_labels(banking_replay.labelled, seed=1), seed=0).adopted


def test_escalations_alone_move_the_escalated_kinds(
    base: QueryAnalyzer, clinc: dict[str, list[str]]
) -> None:
    """No judge: "ask a stronger model" on failed cheap answers, some 👍/"Solved" on good ones."""
    replay = escalation_replay(clinc, seed=0)
    kinds = {ex.kind for ex in replay.labelled}
    assert kinds <= {"escalation", "thumbs_up", "solved"} and "escalation" in kinds
    result = tune(base, replay.labelled, seed=0, settings=QUICK)
    assert result.adopted, result.reason
    tuned = result.analyzer(base)
    rows = [(base.score(q.text).score, tuned.score(q.text).score, q) for q in replay.fresh]
    escalated = [(b, a) for b, a, q in rows if q.needs_premium]
    other = [(b, a) for b, a, q in rows if not q.needs_premium]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    def rank(score: float) -> int:
        return TIERS.index(THRESHOLDS.tier_for(score))

    rise = mean([a for _, a in escalated]) - mean([b for b, _ in escalated])
    other_rise = mean([a for _, a in other]) - mean([b for b, _ in other])
    moved_up = mean([float(rank(a) > rank(b)) for b, a in escalated])
    premium_now = mean([float(THRESHOLDS.tier_for(a) == "premium") for _, a in escalated])
    gain = measure([a for _, a, _ in rows], replay.fresh).gain_ratio
    print(f"escalated kinds: mean score +{rise:.3f}, tier up {moved_up:.0%}, premium "
          f"{premium_now:.0%}; other kinds: mean +{other_rise:.3f}; "
          f"gain ratio {gain:.3f}")  # fmt: skip
    assert rise >= 0.5  # measured +0.864
    assert rise >= other_rise + 0.3  # measured +0.198 on the others
    assert moved_up >= 0.5  # measured 0.95
    assert gain >= 0.8  # measured 0.973


@pytest.mark.parametrize("tuned", ["clinc_tuned", "banking_tuned"])
def test_unfamiliar_questions_keep_their_base_score(
    base: QueryAnalyzer, tuned: str, request: pytest.FixtureRequest
) -> None:
    """Tuned on one deployment's traffic, a question unlike any of it is not lowered."""
    result: TuneResult = request.getfixturevalue(tuned)
    memory: TunedAnalyzer = result.analyzer(base)
    hard = [
        'Traceback (most recent call last):\n  File "sync.py", line 12\nKeyError: \'tenant\'\n'
        "Why does the nightly sync crash only for our EU workspace?",
        "Our SSO login loops back to the sign-in page for one Azure AD tenant since we rotated "
        "the SAML signing certificate. What should we check?",
        "Prove that the square root of 2 is irrational, then explain where the proof breaks "
        "for the square root of 4.",
    ]
    for text in hard:
        assert memory.score(text).score >= base.score(text).score - 0.05, text
