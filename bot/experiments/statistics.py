"""The statistics behind `switchboard ab report`: intervals, tests and sample sizes. Pure functions.

All intervals are two-sided 95%. Costs use Welch's t (unequal variances); the cost *ratio*
uses the delta method on the log of the ratio of means; proportions use Wilson intervals, and
a difference of proportions uses Newcombe's hybrid score interval (built from the two Wilson
intervals: it keeps its coverage near 0% and 100%, where thumbs-up rates live) with the pooled
two-proportion z-test for its p-value.

Standard library only (the bot never needs numpy or scipy at run time): the normal quantiles
come from `statistics.NormalDist`, Student's t from its regularized incomplete beta function
(Lentz's continued fraction) inverted by safeguarded Newton steps (`t_quantile`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
_NORMAL = statistics.NormalDist()
Z = _NORMAL.inv_cdf(0.5 + CONFIDENCE / 2)  # 1.96
Z_POWER = _NORMAL.inv_cdf(0.80)  # 80% power


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
    p_value = 1.0 if se == 0 else normal_two_sided_p(diff / se)
    return Difference(diff, Interval(low, high), p_value)


def mean(values: Sequence[float]) -> Mean:
    """Mean with a t interval (None below two values)."""
    n = len(values)
    if n == 0:
        return Mean(0, None, None)
    avg = math.fsum(values) / n
    if n < 2:
        return Mean(n, avg, None)
    half = t_quantile(0.5 + CONFIDENCE / 2, n - 1) * math.sqrt(_variance(values, avg) / n)
    return Mean(n, avg, Interval(avg - half, avg + half))


def welch(control: Sequence[float], challenger: Sequence[float]) -> Difference | None:
    """Difference of means (challenger - control): Welch's t interval and p-value, with the
    Welch-Satterthwaite degrees of freedom."""
    if len(control) < 2 or len(challenger) < 2:
        return None
    ma, mb = math.fsum(challenger) / len(challenger), math.fsum(control) / len(control)
    diff = ma - mb
    va = _variance(challenger, ma) / len(challenger)
    vb = _variance(control, mb) / len(control)
    if va + vb == 0:
        return Difference(diff, Interval(diff, diff), None if diff else 1.0)
    se = math.sqrt(va + vb)
    df = welch_df(va, len(challenger), vb, len(control))
    half = t_quantile(0.5 + CONFIDENCE / 2, df) * se
    return Difference(diff, Interval(diff - half, diff + half), t_two_sided_p(diff / se, df))


def welch_df(va: float, na: int, vb: float, nb: int) -> float:
    """Welch-Satterthwaite degrees of freedom; `va`, `vb` are the variances of the two means
    (sample variance / n)."""
    return (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))


def ratio_of_means(control: Sequence[float], challenger: Sequence[float]) -> Difference | None:
    """mean(challenger) / mean(control) with a delta-method interval on the log scale.

    Var(log x̄) ≈ s² / (n x̄²); the two are independent, so the variances add. The t quantile
    uses the Welch-Satterthwaite degrees of freedom.
    """
    if len(control) < 2 or len(challenger) < 2:
        return None
    ma, mb = math.fsum(challenger) / len(challenger), math.fsum(control) / len(control)
    if ma <= 0 or mb <= 0:
        return None
    va = _variance(challenger, ma) / (len(challenger) * ma * ma)
    vb = _variance(control, mb) / (len(control) * mb * mb)
    ratio = ma / mb
    if va + vb == 0:
        return Difference(ratio, Interval(ratio, ratio))
    df = welch_df(va, len(challenger), vb, len(control))
    half = t_quantile(0.5 + CONFIDENCE / 2, df) * math.sqrt(va + vb)
    return Difference(ratio, Interval(ratio * math.exp(-half), ratio * math.exp(half)))


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    avg = math.fsum(values) / len(values)
    if avg <= 0:
        return None
    return math.sqrt(_variance(values, avg)) / avg


def _variance(values: Sequence[float], avg: float) -> float:
    """Sample variance (n - 1), two-pass, so costs that differ only in their last digits
    keep their spread."""
    return math.fsum((v - avg) ** 2 for v in values) / (len(values) - 1)


# --- distributions ------------------------------------------------------------------------


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z (erfc keeps precision far in the tail)."""
    return math.erfc(abs(z) / math.sqrt(2))


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` (> 0, not necessarily whole) degrees of freedom."""
    if math.isinf(df):
        return normal_two_sided_p(t)
    return _regularized_beta(df / (df + t * t), df / 2, 0.5)


def t_cdf(t: float, df: float) -> float:
    tail = t_two_sided_p(t, df) / 2
    return 1 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The `p` quantile of Student's t with `df` degrees of freedom (0 < p < 1, df > 0)."""
    if not 0 < p < 1 or not df > 0:
        raise ValueError(f"t_quantile needs 0 < p < 1 and df > 0, got p={p}, df={df}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if math.isinf(df) or df > 1e7:
        return _NORMAL.inv_cdf(p)
    # Newton on the CDF from the normal quantile, kept inside a bracket that bisection
    # shrinks whenever a step would leave it (the t density is flat far in the tails).
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2
    t = min(max(_NORMAL.inv_cdf(p), low), high)
    for _ in range(200):
        error = t_cdf(t, df) - p
        if error == 0:
            return t
        if error > 0:
            high = t
        else:
            low = t
        step = error / _t_density(t, df)
        candidate = t - step
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - t) <= 1e-12 * max(1.0, abs(t)):
            return candidate
        t = candidate
    return t


def _t_density(t: float, df: float) -> float:
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))


def _regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), by the continued fraction (Lentz) on whichever side converges fast."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        + a * math.log(x) + b * math.log1p(-x)
    )  # fmt: skip
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1 - math.exp(log_front) * _beta_fraction(1 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result


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
