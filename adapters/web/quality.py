"""The quality page: what each tier's answers were worth, next to what they cost.

Per tier: the judge's mean score (1-10) with a 95% interval, the thumbs-up share of votes, and
the share of first answers the user escalated ("ask a stronger model"). A figure from fewer than
MIN_SAMPLE observations says "not enough data" instead of a number that would mislead.

Shadow comparisons (the same question answered by another tier and both judged) come in
through `TierComparisons` (`ShadowQuality`, over the stored comparisons), told apart by which
answer users got (bot.learning.quality): the answers a cheaper tier gave, and, separately, what
it would have done on questions routed to premium.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.web.periods import Period
from bot.experiments.statistics import Interval, Rate, Z
from bot.learning.quality import tier_quality
from routing.tiers import TIERS
from storage.learning import LearningData
from storage.ledger import Ledger
from storage.quality import QualityData, TierQuality
from storage.rollups import QualityCounts

MIN_SAMPLE = 30


@dataclass(frozen=True)
class TierComparison:
    """Shadow comparisons: one tier's answers against another tier's, to the same questions."""

    tier: str
    against: str
    given: bool  # True: answers users got from `tier`; False: `tier` answered in the shadow only
    matched: Rate  # judged as good as the other tier's answer (within the margin), of n
    margin: int = 1


class TierComparisons(Protocol):
    async def by_tier(self, *, start: datetime, end: datetime) -> Sequence[TierComparison]: ...


@dataclass(frozen=True)
class JudgeMean:
    n: int
    value: float | None
    interval: Interval | None


def judge_mean(n: int, total: int, squares: int) -> JudgeMean:
    """Mean and normal-approximation 95% interval from count, sum and sum of squares."""
    if n == 0:
        return JudgeMean(0, None, None)
    mean = total / n
    if n < 2:
        return JudgeMean(n, mean, None)
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    half = Z * math.sqrt(variance / n)
    return JudgeMean(n, mean, Interval(mean - half, mean + half))


@dataclass(frozen=True)
class TierRow:
    tier: str
    first_answers: int
    judge: JudgeMean
    thumbs_up: Rate  # successes / n with its 95% Wilson interval
    escalated: Rate

    @staticmethod
    def of(q: TierQuality) -> TierRow:
        return TierRow(
            tier=q.tier,
            first_answers=q.first_answers,
            judge=judge_mean(q.judged, q.judge_sum, q.judge_sum_squares),
            thumbs_up=Rate(q.thumbs_up, q.thumbs_up + q.thumbs_down),
            escalated=Rate(q.escalated, q.first_answers),
        )


@dataclass(frozen=True)
class QualityPage:
    period: Period
    tiers: tuple[TierRow, ...]
    counts: QualityCounts
    comparisons: tuple[TierComparison, ...] | None  # None: not recorded by this deployment
    min_sample: int = MIN_SAMPLE


def _tier_order(tier: str) -> tuple[int, str]:
    return (TIERS.index(tier) if tier in TIERS else len(TIERS), tier)  # type: ignore[arg-type]


async def build_quality(
    data: QualityData,
    ledger: Ledger,
    period: Period,
    comparisons: TierComparisons | None = None,
) -> QualityPage:
    tiers = await data.by_tier(start=period.start, end=period.end)
    counts = await ledger.quality_counts(start=period.start, end=period.end)
    shadow = None
    if comparisons is not None:
        shadow = tuple(await comparisons.by_tier(start=period.start, end=period.end))
    rows = sorted((TierRow.of(q) for q in tiers), key=lambda r: _tier_order(r.tier))
    return QualityPage(period, tuple(rows), counts, shadow)


@dataclass(frozen=True)
class ShadowQuality:
    """`TierComparisons` from the stored shadow comparisons: each cheaper tier against premium,
    matched when judged within `margin` points (QUALITY_MARGIN_POINTS)."""

    store: LearningData
    margin: int = 1

    async def by_tier(self, *, start: datetime, end: datetime) -> Sequence[TierComparison]:
        found = await self.store.comparisons(since=start, until=end)
        return [
            TierComparison(q.tier, "premium", given, rate, self.margin)
            for q in tier_quality(found, margin=self.margin, min_sample=1)
            for given, rate in ((True, q.given), (False, q.shadowed))
            if rate.n
        ]
