"""Judged quality per tier from shadow comparisons: shares, intervals, and "not enough data"."""

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


def test_cheaper_tiers_are_measured_against_premium_either_way_round() -> None:
    found = (
        [comparison("budget", "premium", (8, 9))] * 30  # within a point: matched
        + [comparison("budget", "premium", (5, 9))] * 6  # four points behind: not matched
        + [comparison("premium", "budget", (9, 9))] * 4  # premium answered, budget shadowed
        + [comparison("budget", "premium", (None, 9))] * 5  # no verdict: left out
        + [comparison("balanced", "premium", (7, 9))] * 3  # two points behind
    )
    budget, balanced = tier_quality(found, margin=1, min_sample=20)
    assert (budget.tier, budget.compared, budget.matched) == ("budget", 40, 34)
    assert budget.line() == (
        "budget was judged within 1 point(s) of premium on 85% of 40 sampled questions "
        "(95% CI 71%-93%)"
    )
    assert (balanced.compared, balanced.matched) == (3, 0)
    assert balanced.line() == (
        "balanced vs premium: not enough data (3 judged comparison(s), 20 needed)"
    )


def test_no_comparisons_still_says_so() -> None:
    (budget,) = tier_quality([], min_sample=20)
    assert budget.line().startswith("budget vs premium: not enough data (0 judged")
