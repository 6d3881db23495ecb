"""The tuned analyzer's scoring: reasons say when the deployment moved a score, threads and
acknowledgements behave as in the base, and the correction is bounded in time."""

from __future__ import annotations

import time

import pytest

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning import TunedAnalyzer, tune
from routing.learning.replay import Replay, hidden_rule_replay


@pytest.fixture(scope="module")
def replay(clinc: dict[str, list[str]]) -> Replay:
    return hidden_rule_replay(clinc, seed=0)


@pytest.fixture(scope="module")
def tuned(base: QueryAnalyzer, replay: Replay) -> TunedAnalyzer:
    return tune(base, replay.labelled, seed=0).analyzer(base)


def test_reasons_name_the_similar_labelled_questions(
    base: QueryAnalyzer, tuned: TunedAnalyzer, replay: Replay
) -> None:
    premium = [q.text for q in replay.fresh if q.needs_premium]
    raised = [tuned.score(t) for t in premium if tuned.score(t).score > base.score(t).score + 0.3]
    assert len(raised) > len(premium) / 2
    named = [a.reasons[0] for a in raised if a.reasons[0].startswith("shares wording with ")]
    assert len(named) > len(raised) / 2
    assert all(r.endswith("that needed premium") for r in named), named
    assert all(len(a.reasons) <= 4 for a in raised)
    unknown = "Zorblax quintuple flange retrofits?"  # no key the deployment has labelled
    assert tuned.score(unknown) == base.score(unknown)


def test_follow_ups_inherit_the_tuned_thread_and_acks_stay_capped(
    tuned: TunedAnalyzer, replay: Replay
) -> None:
    hard = next(q.text for q in replay.fresh if q.needs_premium and tuned.score(q.text).score > 0.6)
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
