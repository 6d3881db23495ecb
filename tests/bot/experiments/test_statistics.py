"""The decision rule on seeded synthetic per-thread data (simulation labelled as such)."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.experiments import statistics as st
from bot.experiments.config import Experiment, Variant
from bot.experiments.report import analyse
from storage.experiments import ThreadStats

NOW = datetime(2026, 11, 28, tzinfo=UTC)
EXPERIMENT = Experiment(
    "synthetic", (Variant("A", "fixed", "m-a"), Variant("B", "fixed", "m-b")), target_threads=400
)


def simulated_threads(
    rng: np.random.Generator,
    variant: str,
    n: int,
    cost_scale: float,
    thumbs_up: float,
    start_id: int,
) -> list[ThreadStats]:
    """SIMULATION: gamma-distributed thread costs; each thread rated once, up with `thumbs_up`."""
    costs = rng.gamma(shape=4.0, scale=cost_scale / 4.0, size=n)
    ups = rng.random(n) < thumbs_up
    return [
        ThreadStats(
            start_id + i,
            variant,
            1,
            int(costs[i] * 1e9),
            0,
            0,
            False,
            1,
            int(ups[i]),
            int(not ups[i]),
            0,
            0,
        )
        for i in range(n)
    ]


def run(
    seed: int, cost_b: float, thumbs_b: float, thumbs_a: float = 0.9, n: int = 400
) -> str | None:
    rng = np.random.default_rng(seed)
    rows = simulated_threads(rng, "A", n, 0.004, thumbs_a, 0) + simulated_threads(
        rng, "B", n, 0.004 * cost_b, thumbs_b, n
    )
    return analyse(EXPERIMENT, rows, {}, NOW).recommendation


def test_no_difference_recommends_a_switch_in_at_most_six_percent_of_200_runs() -> None:
    started = time.perf_counter()
    switches = sum(run(seed, 1.0, 0.9) is not None for seed in range(200))
    assert switches <= 12  # 6% of 200
    assert time.perf_counter() - started < 10


def test_at_the_rules_boundaries_false_switches_stay_rare() -> None:
    # Exactly 10% cheaper with equal quality, or 40% cheaper with quality exactly 5 pp lower:
    # both are "don't switch" cases where a sloppy interval would often say "switch".
    cost_edge = sum(run(seed, 0.9, 0.9) is not None for seed in range(100))
    quality_edge = sum(run(seed, 0.6, 0.85) is not None for seed in range(100))
    assert cost_edge <= 6 and quality_edge <= 6
    # ...while a clear win (40% cheaper, same 95% thumbs-up) is found nearly always at n=400.
    wins = sum(run(seed, 0.6, 0.95, thumbs_a=0.95) == "B" for seed in range(30))
    assert wins >= 24


def test_wilson_and_newcombe_match_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a)/(b): 56/70 vs 48/80.
    w = st.wilson(81, 263)
    assert w is not None and math.isclose(w.low, 0.2553, abs_tol=1e-4)
    assert math.isclose(w.high, 0.3662, abs_tol=1e-4)
    d = st.rate_difference(st.Rate(48, 80), st.Rate(56, 70))
    assert d is not None and math.isclose(d.value, 0.2, abs_tol=1e-9)
    assert math.isclose(d.interval.low, 0.0524, abs_tol=1e-4)
    assert math.isclose(d.interval.high, 0.3339, abs_tol=1e-4)


def test_not_enough_data_names_the_missing_threads() -> None:
    rng = np.random.default_rng(1)
    rows = simulated_threads(rng, "A", 150, 0.004, 0.9, 0) + simulated_threads(
        rng, "B", 170, 0.0024, 0.9, 150
    )
    report = analyse(EXPERIMENT, rows, {}, NOW)
    assert report.recommendation is None and report.more_threads_needed == 250
    assert report.verdict.startswith("not enough data yet: 250 more threads per variant")
    assert report.power_threads is not None and report.power_threads > 100


def test_t_quantiles_match_the_published_table() -> None:
    # Two-sided 95% critical values of Student's t (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
    table = {1: 12.706, 2: 4.303, 5: 2.571, 10: 2.228, 30: 2.042, 100: 1.984}
    for df, value in table.items():
        assert math.isclose(st.t_quantile(0.975, df), value, abs_tol=5e-4)
    assert math.isclose(st.t_quantile(0.995, 10), 3.169, abs_tol=5e-4)
    assert math.isclose(st.t_quantile(0.025, 10), -2.228, abs_tol=5e-4)
    assert math.isclose(st.t_quantile(0.975, float("inf")), 1.95996, abs_tol=1e-5)
    # Non-integer degrees of freedom (Welch) lie between their neighbours.
    assert st.t_quantile(0.975, 10) > st.t_quantile(0.975, 10.5) > st.t_quantile(0.975, 11)


def test_welch_matches_the_published_example() -> None:
    # Welch's t-test, Wikipedia "Welch's t-test" example 2 (A1, A2): t = -2.46, df = 25.0,
    # p = 0.021 (two-sided).
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    d = st.welch(a2, a1)  # a1 - a2
    assert d is not None and d.p_value is not None
    assert math.isclose(d.p_value, 0.021, abs_tol=5e-4)
    var1 = statistics.variance(a1) / len(a1)
    var2 = statistics.variance(a2) / len(a2)
    assert math.isclose(d.value / math.sqrt(var1 + var2), -2.46, abs_tol=5e-3)
    assert math.isclose(st.welch_df(var1, len(a1), var2, len(a2)), 25.0, abs_tol=0.05)
    half = (d.interval.high - d.interval.low) / 2
    assert math.isclose(half, st.t_quantile(0.975, 24.9885) * math.sqrt(var1 + var2), rel_tol=1e-4)


def test_statistics_match_scipy_where_it_is_installed() -> None:
    stats = pytest.importorskip("scipy.stats")  # the [train] extra; the bot never needs it
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = list(rng.gamma(2, 1, size=int(rng.integers(2, 60))))
        y = list(rng.gamma(2, 1.3, size=int(rng.integers(2, 60))))
        mine = st.welch(x, y)
        theirs = stats.ttest_ind(y, x, equal_var=False)
        ci = theirs.confidence_interval(0.95)
        assert mine is not None and mine.p_value is not None
        assert math.isclose(mine.interval.low, ci.low, abs_tol=1e-9)
        assert math.isclose(mine.interval.high, ci.high, abs_tol=1e-9)
        assert math.isclose(mine.p_value, theirs.pvalue, rel_tol=1e-8, abs_tol=1e-12)
    for df in (0.7, 1, 3.3, 24.9, 1000):
        assert math.isclose(st.t_quantile(0.9, df), stats.t.ppf(0.9, df), rel_tol=1e-10)


def test_the_statistics_module_needs_neither_numpy_nor_scipy() -> None:
    code = ("import sys, bot.experiments.statistics; "
            "print(sorted({'numpy', 'scipy'} & set(sys.modules)))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
