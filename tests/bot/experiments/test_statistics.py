"""The decision rule on seeded synthetic per-thread data (simulation labelled as such)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import numpy as np

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
