"""What routing cost in quality: from shadow comparisons, how often each cheaper tier's answer
was judged as good as premium's (within a margin), with a 95% interval, or "not enough data"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.experiments.statistics import wilson
from storage.learning import Comparison, LearningData

CHEAPER = ("budget", "balanced")


@dataclass(frozen=True)
class TierQuality:
    tier: str  # the cheaper tier, compared with premium
    compared: int  # comparisons where the judge scored both answers
    matched: int  # the cheaper answer within `margin` points of premium's
    margin: int
    min_sample: int

    @property
    def enough(self) -> bool:
        return self.compared >= self.min_sample

    def line(self) -> str:
        if not self.enough:
            return (
                f"{self.tier} vs premium: not enough data ({self.compared} judged "
                f"comparison(s), {self.min_sample} needed)"
            )
        share = self.matched / self.compared
        interval = wilson(self.matched, self.compared)
        assert interval is not None
        within = "as good as" if self.margin == 0 else f"within {self.margin} point(s) of"
        return (
            f"{self.tier} was judged {within} premium on {share:.0%} of {self.compared} sampled "
            f"questions (95% CI {interval.low:.0%}-{interval.high:.0%})"
        )


def scores(comparison: Comparison) -> tuple[str, int, int] | None:
    """(cheaper tier, its score, premium's score), or None when not a cheaper-vs-premium pair
    the judge scored."""
    if comparison.answered_score is None or comparison.shadow_score is None:
        return None
    if comparison.shadow_tier == "premium" and comparison.answered_tier in CHEAPER:
        return comparison.answered_tier, comparison.answered_score, comparison.shadow_score
    if comparison.answered_tier == "premium" and comparison.shadow_tier in CHEAPER:
        return comparison.shadow_tier, comparison.shadow_score, comparison.answered_score
    return None


def tier_quality(
    comparisons: Sequence[Comparison], *, margin: int = 1, min_sample: int = 20
) -> list[TierQuality]:
    counts = {tier: [0, 0] for tier in CHEAPER}
    for comparison in comparisons:
        found = scores(comparison)
        if found is None:
            continue
        tier, cheap, premium = found
        counts[tier][0] += 1
        counts[tier][1] += cheap >= premium - margin
    return [
        TierQuality(t, n, m, margin, min_sample)
        for t, (n, m) in counts.items()
        if n or t == "budget"
    ]


WINDOW_DAYS = 30


class QualityReport:
    """The judged-quality lines shown next to every savings figure (digest, spend, report)."""

    def __init__(self, store: LearningData, *, margin: int = 1, min_sample: int = 20) -> None:
        self._store, self._margin, self._min_sample = store, margin, min_sample

    async def lines(self, end: datetime, days: int = WINDOW_DAYS) -> list[str]:
        found = await self._store.comparisons(since=end - timedelta(days=days), until=end)
        qualities = tier_quality(found, margin=self._margin, min_sample=self._min_sample)
        return [q.line() for q in qualities]
