"""The experiments page: every A/B experiment of the routing file with `ab report`'s analysis.

The report is `bot.experiments.report.build_report`, the one `switchboard ab report` prints;
this module formats its figures for HTML (the same numbers, the same verdict). A report reads
every enrolled thread (seconds on a large ledger), so the page shows the latest one computed:
the first request computes them, then a background task recomputes them every few minutes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from bot.experiments import statistics as st
from bot.experiments.config import Experiment
from bot.experiments.report import Report, build_report
from storage.experiments import ExperimentData

log = logging.getLogger(__name__)
REFRESH_S = 300.0


@dataclass(frozen=True)
class ExperimentView:
    experiment: Experiment
    report: Report


@dataclass(frozen=True)
class Computed:
    at: datetime
    views: tuple[ExperimentView, ...]


async def build_experiments(
    data: ExperimentData, experiments: Sequence[Experiment], now: datetime
) -> Computed:
    return Computed(now, tuple([ExperimentView(e, await build_report(data, e, now))
                                for e in experiments]))  # fmt: skip


class ExperimentReports:
    """The latest reports, recomputed every `refresh_s` seconds once first asked for."""

    def __init__(self, data: ExperimentData, experiments: Sequence[Experiment],
                 clock: Callable[[], datetime], refresh_s: float = REFRESH_S) -> None:  # fmt: skip
        self._data, self._experiments, self._clock = data, tuple(experiments), clock
        self._refresh_s = refresh_s
        self._latest: Computed | None = None
        self._first = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def latest(self) -> Computed:
        async with self._first:  # concurrent first requests compute once
            if self._latest is None:
                self._latest = await build_experiments(
                    self._data, self._experiments, self._clock()
                )
                self._task = asyncio.create_task(self._refresh(), name="experiment reports")
        return self._latest

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                self._latest = await build_experiments(
                    self._data, self._experiments, self._clock()
                )
            except Exception:  # keep showing the last reports; try again next round
                log.exception("dashboard: recomputing the experiment reports failed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def usd(value: float | None) -> str:
    return "–" if value is None else f"${value:.6f}"


def _two_lines(value: str, detail: str) -> Markup:
    """The figure, and its interval and sample size in small print under it."""
    return Markup("{}<br><small>{}</small>").format(escape(value), escape(detail))


def rate(value: st.Rate) -> Markup | str:
    if value.value is None or value.interval is None:
        return "–"
    low, high = value.interval.low, value.interval.high
    return _two_lines(f"{value.value:.1%}", f"[{low:.1%}, {high:.1%}] n={value.n}")


def mean(value: st.Mean, kind: str = "points") -> Markup | str:
    if value.value is None:
        return "–"
    fmt = usd if kind == "usd" else (lambda v: f"{v:.2f}")
    interval = "" if value.interval is None else (
        f"[{fmt(value.interval.low)}, {fmt(value.interval.high)}] "
    )
    return _two_lines(fmt(value.value), f"{interval}n={value.n}")


def difference(d: st.Difference | None, kind: str) -> Markup | str:
    """A challenger-minus-control difference with its interval, as `ab report` words it."""
    if d is None:
        return "–"
    p = "" if d.p_value is None else f" p={d.p_value:.3g}"
    low, high = d.interval.low, d.interval.high
    if kind == "pp":
        return _two_lines(f"{d.value * 100:+.1f} pp", f"[{low * 100:+.1f}, {high * 100:+.1f}]{p}")
    if kind == "ratio":
        return _two_lines(f"×{d.value:.3f}", f"[{low:.3f}, {high:.3f}]")
    if kind == "usd":
        return _two_lines(f"{d.value:+.6f}", f"[{low:+.6f}, {high:+.6f}]{p}")
    return _two_lines(f"{d.value:+.2f}", f"[{low:+.2f}, {high:+.2f}]{p}")


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"
