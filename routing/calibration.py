"""Pick tier thresholds from a sample of real traffic, the way RouteLLM calibrates its threshold:
choose the score cut-offs that send the wanted shares of queries to each tier."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from routing.config import Thresholds


@dataclass(frozen=True)
class Calibration:
    thresholds: Thresholds
    queries: int
    budget_share: float  # achieved on the sample (ties can make it differ from the target)
    premium_share: float


def calibrate(scores: Sequence[float], *, premium_share: float, budget_share: float) -> Calibration:
    if not scores:
        raise ValueError("calibration needs at least one query")
    if not (
        0 <= budget_share <= 1 and 0 <= premium_share <= 1 and budget_share + premium_share <= 1
    ):
        raise ValueError("shares must be within [0, 1] and add up to at most 1")
    ordered = sorted(scores)
    budget_below = _cut(ordered, budget_share)
    premium_from = _cut(ordered, 1 - premium_share)
    premium_from = max(premium_from, budget_below)
    thresholds = Thresholds(budget_below, premium_from)
    tiers = [thresholds.tier_for(s) for s in ordered]
    return Calibration(
        thresholds,
        len(ordered),
        tiers.count("budget") / len(ordered),
        tiers.count("premium") / len(ordered),
    )


def _cut(ordered: Sequence[float], share: float) -> float:
    """A threshold with about `share` of the scores strictly below it."""
    k = round(share * len(ordered))
    if k <= 0:
        return ordered[0]
    if k >= len(ordered):
        return min(1.0, ordered[-1] + 1e-9)
    low, high = ordered[k - 1], ordered[k]
    return (low + high) / 2 if high > low else min(1.0, low + 1e-9)


# Thresholds from a quality target, measured on shadow comparisons (the same question answered by
# the budget and the premium tier and scored by a judge).


@dataclass(frozen=True)
class ShadowComparison:
    score: float  # the router's score for the question
    cheap: float  # judge score of the budget answer (e.g. 1-10)
    premium: float  # judge score of the premium answer, same scale
    cheap_cost_nano: int | None = None
    premium_cost_nano: int | None = None


@dataclass(frozen=True)
class QualityCalibration:
    thresholds: Thresholds | None  # None: not enough data (see `reason`)
    comparisons: int
    budget_share: float
    balanced_share: float
    premium_share: float
    # Of the comparisons routed to budget: the share judged within `within` of premium, with a
    # 95% Wilson interval.
    budget_within: float
    budget_within_interval: tuple[float, float]
    # Share of always-premium cost avoided on these comparisons, when all carry both costs;
    # balanced answers are costed at `balanced_cost_ratio` x premium (premium when not given,
    # so the figure is then a lower bound).
    expected_savings: float | None
    reason: str


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _cuts(scores: Sequence[float]) -> list[int]:
    """Positions i (0..n) where a threshold can split sorted scores into [:i] and [i:]."""
    return [0] + [i for i in range(1, len(scores)) if scores[i] > scores[i - 1]] + [len(scores)]


def _between(scores: Sequence[float], i: int) -> float:
    if i <= 0:
        return scores[0] if scores else 0.0
    if i >= len(scores):
        return min(1.0, scores[-1] + 1e-9)
    return (scores[i - 1] + scores[i]) / 2.0


def thresholds_for_quality(
    comparisons: Sequence[ShadowComparison],
    *,
    within: float = 1.0,
    target: float = 0.9,
    premium_need: float = 0.6,
    min_comparisons: int = 100,
    min_band: int = 20,
    fallback_premium_from: float = 1.0,
    balanced_cost_ratio: float | None = None,
) -> QualityCalibration:
    """The widest budget band (lowest scores) in which the budget answer is judged within `within`
    points of premium in at least `target` of comparisons; premium from the lowest score where
    the budget answer falls short by more than `within` in at least `premium_need` of the next
    max(`min_band`, n/10) comparisons (else `fallback_premium_from`); balanced in between."""
    n = len(comparisons)
    if n < min_comparisons:
        reason = f"not enough data: {n} shadow comparisons (need {min_comparisons})"
        return QualityCalibration(None, n, 0.0, 0.0, 0.0, 0.0, (0.0, 1.0), None, reason)
    ordered = sorted(comparisons, key=lambda c: c.score)
    scores = [c.score for c in ordered]
    close = [c.premium - c.cheap <= within for c in ordered]
    prefix = [0]
    for ok in close:
        prefix.append(prefix[-1] + ok)
    cuts = _cuts(scores)
    budget = max((i for i in cuts if i == 0 or prefix[i] >= target * i), default=0)
    # Premium starts where the budget answer mostly falls short: the first cut above the budget
    # band whose next `band` comparisons fail in at least `premium_need` of cases.
    band = max(min_band, n // 10)

    def mostly_short(i: int) -> bool:
        j = min(n, i + band)
        return (j - i) - (prefix[j] - prefix[i]) >= premium_need * (j - i)

    premium = next((i for i in cuts if budget <= i < n and mostly_short(i)), n)
    budget_below = _between(scores, budget)
    premium_from = _between(scores, premium) if premium < n else max(fallback_premium_from,
                                                                       budget_below)  # fmt: skip
    thresholds = Thresholds(budget_below, max(premium_from, budget_below))
    tiers = [thresholds.tier_for(s) for s in scores]
    in_budget = [ok for ok, tier in zip(close, tiers, strict=True) if tier == "budget"]
    share_ok = sum(in_budget) / len(in_budget) if in_budget else 1.0
    return QualityCalibration(
        thresholds,
        n,
        tiers.count("budget") / n,
        tiers.count("balanced") / n,
        tiers.count("premium") / n,
        share_ok,
        wilson(sum(in_budget), len(in_budget)),
        _savings(ordered, tiers, balanced_cost_ratio),
        f"budget answers within {within:g} point(s) of premium in {share_ok:.0%} of "
        f"{len(in_budget)} budget-routed comparisons (target {target:.0%})",
    )


def _savings(
    ordered: Sequence[ShadowComparison], tiers: Sequence[str], balanced_ratio: float | None
) -> float | None:
    if any(c.cheap_cost_nano is None or c.premium_cost_nano is None for c in ordered):
        return None
    full = sum(c.premium_cost_nano or 0 for c in ordered)
    if full <= 0:
        return None
    ratio = 1.0 if balanced_ratio is None else balanced_ratio
    spent = 0.0
    for c, tier in zip(ordered, tiers, strict=True):
        premium = float(c.premium_cost_nano or 0)
        spent += float(c.cheap_cost_nano or 0) if tier == "budget" else (
            premium * ratio if tier == "balanced" else premium)  # fmt: skip
    return 1.0 - spent / full
