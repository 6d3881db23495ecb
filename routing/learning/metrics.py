"""Before/after metrics of a routing score on labelled questions, with seeded bootstrap intervals.

- APGR and CPT(50%) as in routing.training.evaluation (RouteLLM): send the top-k scores to
  premium, the rest to the cheap tier.
- Savings at a quality target: the largest share of always-premium cost avoided while mean
  quality stays >= target x always-premium quality. Ties are split in expectation, for cost as
  for quality.
Intervals are percentile bootstraps over questions (or over groups of near-duplicate labels,
which are resampled whole); before and after are resampled together (paired), so their
difference has its own interval.
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass

QUALITY_TARGET = 0.95


@dataclass(frozen=True)
class Outcome:
    """What each tier would deliver on one question: quality in [0, 1] and cost (any unit)."""

    cheap_quality: float
    premium_quality: float
    cheap_cost: float = 0.0
    premium_cost: float = 1.0


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class PointMetrics:
    apgr: float
    cpt50: float
    savings: float


@dataclass(frozen=True)
class Metrics:
    apgr: Interval
    cpt50: Interval
    savings: Interval  # share of premium cost avoided at the quality target
    n: int


def has_gap(outcomes: Sequence[Outcome]) -> bool:
    """APGR needs premium to beat the cheap tier on the set as a whole."""
    return sum(o.premium_quality - o.cheap_quality for o in outcomes) > 1e-12


def tie_groups(scores: Sequence[float]) -> list[tuple[int, ...]]:
    """Indices by descending score, equal scores grouped (ties are split in expectation)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    groups: list[tuple[int, ...]] = []
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and scores[order[end]] == scores[order[start]]:
            end += 1
        groups.append(tuple(order[start:end]))
        start = end
    return groups


@dataclass(frozen=True)
class _Table:
    """The outcomes as columns, for the bootstrap's thousands of passes."""

    cheap_q: tuple[float, ...]
    premium_q: tuple[float, ...]
    cheap_c: tuple[float, ...]
    premium_c: tuple[float, ...]
    dq: tuple[float, ...]
    dc: tuple[float, ...]

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> _Table:
        cq = tuple(o.cheap_quality for o in outcomes)
        pq = tuple(o.premium_quality for o in outcomes)
        cc = tuple(o.cheap_cost for o in outcomes)
        pc = tuple(o.premium_cost for o in outcomes)
        dq = tuple(p - c for p, c in zip(pq, cq, strict=True))
        return cls(cq, pq, cc, pc, dq, tuple(p - c for p, c in zip(pc, cc, strict=True)))


def _summarise(
    groups: Sequence[tuple[int, ...]], counts: Sequence[int], table: _Table, target: float,
) -> PointMetrics | None:  # fmt: skip
    """One pass over k = 0..n premium calls (each question `counts[i]` times); None when
    premium does not beat the cheap tier. Same definitions as routing.training.evaluation."""
    n = sum(counts)
    q0 = math.fsum(map(operator.mul, counts, table.cheap_q))
    c0 = math.fsum(map(operator.mul, counts, table.cheap_c))
    q_end = math.fsum(map(operator.mul, counts, table.premium_q))
    c_end = math.fsum(map(operator.mul, counts, table.premium_c))
    gap = q_end - q0
    if n == 0 or gap <= 1e-12:
        return None
    needed = target * q_end - 1e-12
    best = 1.0 - c0 / c_end if q0 >= needed and c_end > 0 else 0.0
    area, cpt50, k, q, c = 0.0, 1.0, 0, q0, c0
    dqs, dcs = table.dq, table.dc
    for group in groups:
        if len(group) == 1:
            (i,) = group
            size = counts[i]
            if not size:
                continue
            dq, dc = dqs[i], dcs[i]
        else:
            size = sum(counts[i] for i in group)
            if not size:
                continue
            dq = sum(counts[i] * dqs[i] for i in group) / size
            dc = sum(counts[i] * dcs[i] for i in group) / size
        for _ in range(size):
            before, q, c, k = q, q + dq, c + dc, k + 1
            area += (before + q) / 2.0 - q0
            if cpt50 == 1.0 and (q - q0) / gap >= 0.5:
                low, high = (before - q0) / gap, (q - q0) / gap
                fraction = (0.5 - low) / (high - low) if high > low else 1.0
                cpt50 = (k - 1 + max(0.0, fraction)) / n
            if q >= needed and c_end > 0:
                best = max(best, 1.0 - c / c_end)
    return PointMetrics(area / (gap * n), cpt50, best)


def point_metrics(
    scores: Sequence[float], outcomes: Sequence[Outcome], target: float = QUALITY_TARGET
) -> PointMetrics:
    if not scores or len(scores) != len(outcomes):
        raise ValueError("scores and outcomes must be non-empty and of equal length")
    found = _summarise(tie_groups(scores), [1] * len(scores), _Table.of(outcomes), target)
    if found is None:
        raise ValueError("metrics need premium to beat the cheap tier on this set")
    return found


def _interval(estimate: float, samples: list[float], level: float) -> Interval:
    if not samples:
        return Interval(estimate, float("nan"), float("nan"))
    ordered = sorted(samples)
    tail = (1.0 - level) / 2.0
    last = len(ordered) - 1
    low = ordered[math.floor(tail * last)]
    high = ordered[math.ceil((1.0 - tail) * last)]
    return Interval(estimate, low, high)


@dataclass(frozen=True)
class Comparison:
    before: Metrics
    after: Metrics
    apgr_gain: Interval  # after - before, paired
    savings_gain: Interval
    skipped: int  # bootstrap rounds without a quality gap (left out)


def compare(
    before: Sequence[float],
    after: Sequence[float],
    outcomes: Sequence[Outcome],
    *,
    seed: int = 0,
    rounds: int = 1000,
    level: float = 0.95,
    target: float = QUALITY_TARGET,
    groups: Sequence[int] | None = None,
) -> Comparison:
    """Point metrics of both scorings and paired percentile-bootstrap intervals; `groups` (a
    group id per question) makes each round draw whole groups."""
    if not len(before) == len(after) == len(outcomes):
        raise ValueError("before, after and outcomes must have equal length")
    point_b = point_metrics(before, outcomes, target)
    point_a = point_metrics(after, outcomes, target)
    groups_b, groups_a = tie_groups(before), tie_groups(after)
    table = _Table.of(outcomes)
    rng = random.Random(seed)
    n = len(outcomes)
    members: dict[int, list[int]] = {}
    for i, group in enumerate(range(n) if groups is None else groups):
        members.setdefault(group, []).append(i)
    units = list(members.values())
    pairs: list[tuple[PointMetrics, PointMetrics]] = []
    skipped = 0
    for _ in range(rounds):
        counts = [0] * n
        for unit in rng.choices(units, k=len(units)):
            for i in unit:
                counts[i] += 1
        b = _summarise(groups_b, counts, table, target)
        a = _summarise(groups_a, counts, table, target)
        if a is None or b is None:
            skipped += 1
        else:
            pairs.append((b, a))

    def metrics(side: int, point: PointMetrics) -> Metrics:
        return Metrics(
            _interval(point.apgr, [pair[side].apgr for pair in pairs], level),
            _interval(point.cpt50, [pair[side].cpt50 for pair in pairs], level),
            _interval(point.savings, [pair[side].savings for pair in pairs], level),
            n,
        )

    return Comparison(
        metrics(0, point_b),
        metrics(1, point_a),
        _interval(point_a.apgr - point_b.apgr, [a.apgr - b.apgr for b, a in pairs], level),
        _interval(
            point_a.savings - point_b.savings, [a.savings - b.savings for b, a in pairs], level
        ),
        skipped,
    )
