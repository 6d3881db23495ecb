"""`switchboard ab report`: per-variant figures, differences with intervals, and a verdict.

The decision rule, "switch if cost drops by more than 10% and quality drops by less than 5%",
made precise (95% two-sided intervals, challenger compared with the control = first variant):

- cost: the upper bound of the interval for mean cost per thread (challenger / control) < 0.90;
- quality: the lower bound of the interval for the thumbs-up rate difference (challenger minus
  control, over rated threads) > -5 percentage points, and, when both variants have judge
  scores, the lower bound of the judge-mean difference > -0.5 points (5% of the 1-10 scale).

Both must hold (an intersection-union test: no multiplicity correction needed). Nothing is
recommended until every variant has `target_threads` threads: the sample size is fixed in
advance, because looking after every batch and stopping at the first "significant" result
inflates false positives. Until then the report says how many threads are missing, with a
power calculation from the data so far as a check on the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.experiments import statistics as st
from bot.experiments.config import Experiment
from storage.experiments import ExperimentData, ThreadStats, Timings, Window

COST_BAR = 0.90
THUMBS_MARGIN = 0.05
JUDGE_MARGIN = 0.5
NANO = 1e9


@dataclass(frozen=True)
class VariantReport:
    name: str
    label: str
    threads: int
    calls: int
    cost_per_thread_usd: st.Mean  # threads whose calls are all priced
    cost_per_call_usd: float | None
    unpriced_calls: int
    timings: Timings
    thumbs_up: st.Rate  # rated threads whose ups outnumber downs / rated threads
    judge: st.Mean  # per-thread mean judge score
    escalation: st.Rate
    solved: st.Rate
    follow_up: st.Rate


@dataclass(frozen=True)
class Comparison:
    variant: str
    cost_ratio: st.Difference | None
    cost_difference_usd: st.Difference | None
    thumbs_up: st.Difference | None
    judge: st.Difference | None
    escalation: st.Difference | None
    solved: st.Difference | None
    follow_up: st.Difference | None
    cheaper_enough: bool
    quality_held: bool


@dataclass(frozen=True)
class Report:
    experiment: str
    status: str
    target_threads: int
    control: str
    variants: tuple[VariantReport, ...]
    comparisons: tuple[Comparison, ...]
    judge_calls: int
    judge_cost_usd: float
    more_threads_needed: int
    power_threads: int | None
    recommendation: str | None  # the variant to switch to; None: keep the control or wait
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _variant(name: str, label: str, rows: list[ThreadStats], times: Timings) -> VariantReport:
    priced = [r for r in rows if r.unpriced_calls == 0]
    calls = sum(r.calls for r in rows)
    priced_calls = sum(r.calls for r in priced)
    rated = [r for r in rows if r.rated]
    judged = [r.judge_total / r.judge_count for r in rows if r.judge_count]
    return VariantReport(
        name=name,
        label=label,
        threads=len(rows),
        calls=calls,
        cost_per_thread_usd=st.mean([r.cost_nano_usd / NANO for r in priced]),
        cost_per_call_usd=(
            sum(r.cost_nano_usd for r in priced) / NANO / priced_calls if priced_calls else None
        ),
        unpriced_calls=sum(r.unpriced_calls for r in rows),
        timings=times,
        thumbs_up=st.Rate(sum(r.positive for r in rated), len(rated)),
        judge=st.mean(judged),
        escalation=st.Rate(sum(r.escalations > 0 for r in rows), len(rows)),
        solved=st.Rate(sum(r.solved for r in rows), len(rows)),
        follow_up=st.Rate(sum(r.followed_up for r in rows), len(rows)),
    )


def _costs(rows: list[ThreadStats]) -> list[float]:
    return [r.cost_nano_usd / NANO for r in rows if r.unpriced_calls == 0]


def _judged(rows: list[ThreadStats]) -> list[float]:
    return [r.judge_total / r.judge_count for r in rows if r.judge_count]


def _compare(
    control: VariantReport, other: VariantReport, base: list[ThreadStats], rows: list[ThreadStats]
) -> Comparison:
    ratio = st.ratio_of_means(_costs(base), _costs(rows))
    thumbs = st.rate_difference(control.thumbs_up, other.thumbs_up)
    judge = st.welch(_judged(base), _judged(rows))
    quality = thumbs is not None and thumbs.interval.low > -THUMBS_MARGIN
    if judge is not None:
        quality = quality and judge.interval.low > -JUDGE_MARGIN
    return Comparison(
        variant=other.name,
        cost_ratio=ratio,
        cost_difference_usd=st.welch(_costs(base), _costs(rows)),
        thumbs_up=thumbs,
        judge=judge,
        escalation=st.rate_difference(control.escalation, other.escalation),
        solved=st.rate_difference(control.solved, other.solved),
        follow_up=st.rate_difference(control.follow_up, other.follow_up),
        cheaper_enough=ratio is not None and ratio.interval.high < COST_BAR,
        quality_held=quality,
    )


def _power(by_variant: dict[str, list[ThreadStats]], reports: list[VariantReport]) -> int | None:
    """Threads per variant the rule needs for 80% power, from the data so far."""
    control = reports[0]
    cv0 = st.coefficient_of_variation(_costs(by_variant[control.name]))
    rated = sum(r.thumbs_up.n for r in reports)
    if cv0 is None or rated == 0:
        return None
    rate = sum(r.thumbs_up.successes for r in reports) / rated
    needed = st.threads_for_rate(rate, THUMBS_MARGIN)
    for report in reports[1:]:
        cv = st.coefficient_of_variation(_costs(by_variant[report.name]))
        c0, c1 = control.cost_per_thread_usd.value, report.cost_per_thread_usd.value
        if cv is None or not c0 or not c1:
            return None
        # Plan for the drop seen so far, but at least a 20% one (a 10% drop can't beat the bar).
        ratio = min(c1 / c0, 0.8)
        needed = max(needed, st.threads_for_cost(cv0, cv, ratio, COST_BAR))
    return needed


def analyse(
    experiment: Experiment,
    rows: list[ThreadStats],
    times: dict[str, Timings],
    now: datetime,
    judge: tuple[int, int] = (0, 0),
) -> Report:
    by_variant = {v.name: [r for r in rows if r.variant == v.name] for v in experiment.variants}
    empty = Timings(None, None, None, None)
    reports = [
        _variant(v.name, v.label, by_variant[v.name], times.get(v.name, empty))
        for v in experiment.variants
    ]
    control = reports[0]
    comparisons = tuple(
        _compare(control, r, by_variant[control.name], by_variant[r.name]) for r in reports[1:]
    )
    target = experiment.target_threads
    missing = max(0, max(target - r.threads for r in reports))
    power = _power(by_variant, reports)
    recommendation = None
    if missing:
        verdict = (
            f"not enough data yet: {missing} more threads per variant (target {target} per variant)"
        )
    else:
        winners = [c for c in comparisons if c.cheaper_enough and c.quality_held]
        if winners:
            best = min(winners, key=lambda c: c.cost_ratio.value if c.cost_ratio else 1.0)
            recommendation = best.variant
            verdict = f"switch to {best.variant}: {_why(best)}"
        else:
            verdict = f"keep {control.name}: " + "; ".join(
                f"{c.variant}: {_why(c)}" for c in comparisons
            )
    return Report(
        experiment=experiment.name,
        status=experiment.status(now),
        target_threads=target,
        control=control.name,
        variants=tuple(reports),
        comparisons=comparisons,
        judge_calls=judge[0],
        judge_cost_usd=judge[1] / NANO,
        more_threads_needed=missing,
        power_threads=power,
        recommendation=recommendation,
        verdict=verdict,
    )


def _why(c: Comparison) -> str:
    parts = []
    if c.cost_ratio is None:
        parts.append("no cost data")
    else:
        ok = "below" if c.cheaper_enough else "not below"
        parts.append(
            f"cost x{c.cost_ratio.value:.2f} (95% CI {_ci(c.cost_ratio, '.2f')}, upper "
            f"bound {ok} {COST_BAR:.2f})"
        )
    if c.thumbs_up is None:
        parts.append("no thumbs-up data")
    else:
        ok = "above" if c.thumbs_up.interval.low > -THUMBS_MARGIN else "not above"
        parts.append(
            f"thumbs-up {_pp(c.thumbs_up.value)} (95% CI {_pp(c.thumbs_up.interval.low)}"
            f" to {_pp(c.thumbs_up.interval.high)}, lower bound {ok} -5 pp)"
        )
    if c.judge is not None:
        ok = "above" if c.judge.interval.low > -JUDGE_MARGIN else "not above"
        parts.append(
            f"judge {c.judge.value:+.2f} (95% CI {_ci(c.judge, '+.2f')}, lower bound "
            f"{ok} -{JUDGE_MARGIN})"
        )
    return ", ".join(parts)


def _ci(d: st.Difference, fmt: str) -> str:
    return f"{d.interval.low:{fmt}} to {d.interval.high:{fmt}}"


def _pp(value: float) -> str:
    return f"{value * 100:+.1f} pp"


async def build_report(data: ExperimentData, experiment: Experiment, now: datetime) -> Report:
    window = Window(experiment.start, experiment.stop)
    rows = await data.thread_stats(experiment.name, window)
    times = await data.timings(experiment.name, window)
    judge = await data.judge_cost(experiment.name, window)
    return analyse(experiment, rows, times, now, judge)


async def experiment_digest_lines(
    data: ExperimentData, experiments: Sequence[Experiment], now: datetime
) -> list[str]:
    """One line per running experiment, for the daily digest."""
    lines = []
    for experiment in experiments:
        if not experiment.running(now):
            continue
        report = await build_report(data, experiment, now)
        parts = []
        for v in report.variants:
            cost = v.cost_per_thread_usd.value
            parts.append(
                f"{v.name} {v.threads} threads"
                + (f" ${cost:.4f}/thread" if cost is not None else "")
            )
        lines.append(f"Experiment {experiment.name}: {', '.join(parts)}. {report.verdict}")
    return lines
