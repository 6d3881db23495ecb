"""Judged quality per tier from shadow comparisons, told apart by which answer users got: the
answers a cheaper tier gave, and what it would have done on premium-routed questions."""

from __future__ import annotations

from bot.learning.quality import tier_quality
from storage.learning import Comparison


def comparison(answered: str, shadow: str, scores: tuple[int | None, int | None]) -> Comparison:
    return Comparison(
        call_id=1, thread_id=1, message_id=1, question="q", context=(), answered_tier=answered,
        shadow_tier=shadow, shadow_model="m", shadow_call_id=None, judge_call_id=None,
        answered_score=scores[0], shadow_score=scores[1], answered_cost_nano_usd=None,
        shadow_cost_nano_usd=None, router_version=None, router_score=None,
    )  # fmt: skip


def test_answers_given_and_shadow_only_comparisons_are_reported_apart() -> None:
    """The issue's case: 33 budget answers (20 matched premium) and 42 premium-routed questions
    where budget was only the shadow (6 matched). Mixed, they read "35% of 75": as if budget's
    answers were poor, which is not what was measured."""
    found = (
        [comparison("budget", "premium", (8, 9))] * 20  # within a point: matched
        + [comparison("budget", "premium", (5, 9))] * 13  # four points behind
        + [comparison("premium", "budget", (9, 8))] * 6  # budget's shadow answer within a point
        + [comparison("premium", "budget", (9, 4))] * 36
        + [comparison("budget", "premium", (None, 9))] * 5  # no verdict: left out
        + [comparison("balanced", "premium", (7, 9))] * 3  # two points behind
    )
    budget, balanced = tier_quality(found, margin=1, min_sample=20)
    assert (budget.given.successes, budget.given.n) == (20, 33)
    assert (budget.shadowed.successes, budget.shadowed.n) == (6, 42)
    assert budget.lines() == [
        "budget answers: 61% of 33 judged within 1 point(s) of premium's answer to the same "
        "question (95% CI 44%-75%)",
        "what budget would have done on questions routed to premium (shadow only): 14% of 42 "
        "judged within 1 point(s) of premium's answer to the same question (95% CI 7%-28%)",
    ]
    assert balanced.lines() == [
        "balanced answers: not enough data (3 judged comparison(s), 20 needed)"
    ]


def test_no_comparisons_still_says_so() -> None:
    (budget,) = tier_quality([], min_sample=20)
    assert budget.lines() == ["budget answers: not enough data (0 judged comparison(s), 20 needed)"]
