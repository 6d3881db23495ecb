"""The statistics behind `switchboard ab report`: intervals, tests and sample sizes. Pure functions.

All intervals are two-sided 95%. Costs use Welch's t (unequal variances); the cost *ratio*
uses the delta method on the log of the ratio of means; proportions use Wilson intervals, and
a difference of proportions uses Newcombe's hybrid score interval (built from the two Wilson
intervals: it keeps its coverage near 0% and 100%, where thumbs-up rates live) with the pooled
two-proportion z-test for its p-value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))  # 1.96
Z_POWER = float(stats.norm.ppf(0.80))  # 80% power


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None

    @property
    def interval(self) -> Interval | None:
        return wilson(self.successes, self.n)


@dataclass(frozen=True)
class Mean:
    n: int
    value: float | None
    interval: Interval | None


@dataclass(frozen=True)
class Difference:
    """`value` = challenger minus control (or their ratio), with its interval and p-value."""

    value: float
    interval: Interval
    p_value: float | None = None


def wilson(successes: int, n: int, z: float = Z) -> Interval | None:
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def rate_difference(control: Rate, challenger: Rate) -> Difference | None:
    """Challenger minus control: Newcombe interval, two-proportion z-test p-value."""
    if control.n == 0 or challenger.n == 0:
        return None
    p1, p2 = control.successes / control.n, challenger.successes / challenger.n
    w1, w2 = wilson(control.successes, control.n), wilson(challenger.successes, challenger.n)
    assert w1 is not None and w2 is not None
    diff = p2 - p1
    low = diff - math.sqrt((p2 - w2.low) ** 2 + (w1.high - p1) ** 2)
    high = diff + math.sqrt((w2.high - p2) ** 2 + (p1 - w1.low) ** 2)
    pooled = (control.successes + challenger.successes) / (control.n + challenger.n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / challenger.n))
    p_value = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(diff) / se))
    return Difference(diff, Interval(low, high), p_value)


def mean(values: Sequence[float]) -> Mean:
    """Mean with a t interval (None below two values)."""
    n = len(values)
    if n == 0:
        return Mean(0, None, None)
    avg = float(np.mean(values))
    if n < 2:
        return Mean(n, avg, None)
    half = (
        float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1))
        * float(np.std(values, ddof=1))
        / (math.sqrt(n))
    )
    return Mean(n, avg, Interval(avg - half, avg + half))


def welch(control: Sequence[float], challenger: Sequence[float]) -> Difference | None:
    """Difference of means (challenger - control): Welch's t interval and p-value."""
    if len(control) < 2 or len(challenger) < 2:
        return None
    a, b = np.asarray(challenger, float), np.asarray(control, float)
    if np.var(a) == 0 and np.var(b) == 0:
        diff = float(a.mean() - b.mean())
        return Difference(diff, Interval(diff, diff), None if diff else 1.0)
    with warnings.catch_warnings():
        # Costs that differ only in their last digits make scipy warn about precision; the
        # interval it returns is still right (and near zero width).
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(CONFIDENCE)
    return Difference(
        float(a.mean() - b.mean()), Interval(float(ci.low), float(ci.high)), float(result.pvalue)
    )


def ratio_of_means(control: Sequence[float], challenger: Sequence[float]) -> Difference | None:
    """mean(challenger) / mean(control) with a delta-method interval on the log scale.

    Var(log x̄) ≈ s² / (n x̄²); the two are independent, so the variances add. The t quantile
    uses the Welch-Satterthwaite degrees of freedom.
    """
    if len(control) < 2 or len(challenger) < 2:
        return None
    a, b = np.asarray(challenger, float), np.asarray(control, float)
    ma, mb = float(a.mean()), float(b.mean())
    if ma <= 0 or mb <= 0:
        return None
    va = float(a.var(ddof=1)) / (len(a) * ma * ma)
    vb = float(b.var(ddof=1)) / (len(b) * mb * mb)
    ratio = ma / mb
    if va + vb == 0:
        return Difference(ratio, Interval(ratio, ratio))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)) * math.sqrt(va + vb)
    return Difference(ratio, Interval(ratio * math.exp(-half), ratio * math.exp(half)))


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    if len(values) < 2 or float(np.mean(values)) <= 0:
        return None
    return float(np.std(values, ddof=1) / np.mean(values))


def threads_for_cost(cv_control: float, cv_challenger: float, ratio: float, bar: float) -> int:
    """Threads per variant for 80% power to show the cost ratio's upper bound under `bar`,
    if the true ratio is `ratio` (< bar)."""
    gap = math.log(bar) - math.log(ratio)
    return math.ceil((Z + Z_POWER) ** 2 * (cv_control**2 + cv_challenger**2) / gap**2)


def threads_for_rate(rate: float, margin: float) -> int:
    """Threads per variant for 80% power to show a rate drop smaller than `margin`, if the two
    true rates are equal (non-inferiority, normal approximation)."""
    variance = max(rate * (1 - rate), 0.01)  # a rate of exactly 0 or 1 still has some spread
    return math.ceil((Z + Z_POWER) ** 2 * 2 * variance / margin**2)
