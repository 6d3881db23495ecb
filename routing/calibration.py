"""Pick tier thresholds from a sample of real traffic, the way RouteLLM calibrates its threshold:
choose the score cut-offs that send the wanted shares of queries to each tier."""

from __future__ import annotations

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
