"""What routing cost in quality, from shadow comparisons, told apart by which answer users got:

- **answers a cheaper tier gave**: the question was routed to budget (or balanced), and premium
  answered it in the shadow; how often the answer users actually got was judged within a margin
  of premium's;
- **what a cheaper tier would have done**: the question was routed to premium, and the cheaper
  tier answered it only in the shadow. These are the questions the router judged hard, so they
  say little about the answers users got from that tier, and are reported apart.

Each with a 95% Wilson interval, or "not enough data" below a minimum sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.experiments.statistics import Rate
from storage.learning import Comparison, LearningData

CHEAPER = ("budget", "balanced")


@dataclass(frozen=True)
class TierQuality:
    tier: str  # the cheaper tier, compared with premium
    given: Rate  # answers this tier gave, within `margin` points of premium's shadow answer
    shadowed: Rate  # premium-routed questions this tier answered only in the shadow
    margin: int
    min_sample: int

    def lines(self) -> list[str]:
        within = "as good as" if self.margin == 0 else f"within {self.margin} point(s) of"
        out = [f"{self.tier} answers: " + self._share(self.given, within)]
        if self.shadowed.n:
            out.append(f"what {self.tier} would have done on questions routed to premium "
                       "(shadow only): " + self._share(self.shadowed, within))  # fmt: skip
        return out

    def _share(self, rate: Rate, within: str) -> str:
        if rate.n < self.min_sample:
            return f"not enough data ({rate.n} judged comparison(s), {self.min_sample} needed)"
        interval = rate.interval
        assert interval is not None and rate.value is not None
        return (
            f"{rate.value:.0%} of {rate.n} judged {within} premium's answer to the same question "
            f"(95% CI {interval.low:.0%}-{interval.high:.0%})"
        )


def scores(comparison: Comparison) -> tuple[str, int, int, bool] | None:
    """(cheaper tier, its score, premium's score, whether the cheaper answer was the one given),
    or None when not a cheaper-vs-premium pair the judge scored."""
    if comparison.answered_score is None or comparison.shadow_score is None:
        return None
    if comparison.shadow_tier == "premium" and comparison.answered_tier in CHEAPER:
        return comparison.answered_tier, comparison.answered_score, comparison.shadow_score, True
    if comparison.answered_tier == "premium" and comparison.shadow_tier in CHEAPER:
        return comparison.shadow_tier, comparison.shadow_score, comparison.answered_score, False
    return None


def tier_quality(
    comparisons: Sequence[Comparison], *, margin: int = 1, min_sample: int = 20
) -> list[TierQuality]:
    counts = {tier: {True: [0, 0], False: [0, 0]} for tier in CHEAPER}
    for comparison in comparisons:
        found = scores(comparison)
        if found is None:
            continue
        tier, cheap, premium, given = found
        counts[tier][given][0] += cheap >= premium - margin
        counts[tier][given][1] += 1
    return [
        TierQuality(t, Rate(*c[True]), Rate(*c[False]), margin, min_sample)
        for t, c in counts.items()
        if c[True][1] or c[False][1] or t == "budget"
    ]


WINDOW_DAYS = 30


class QualityReport:
    """The judged-quality lines shown next to every savings figure (digest, spend, report)."""

    def __init__(self, store: LearningData, *, margin: int = 1, min_sample: int = 20) -> None:
        self._store, self._margin, self._min_sample = store, margin, min_sample

    async def lines(self, end: datetime, days: int = WINDOW_DAYS) -> list[str]:
        found = await self._store.comparisons(since=end - timedelta(days=days), until=end)
        qualities = tier_quality(found, margin=self._margin, min_sample=self._min_sample)
        return [line for q in qualities for line in q.lines()]
