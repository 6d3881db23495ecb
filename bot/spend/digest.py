"""The daily digest's figures for one local day, all aggregated in SQL by the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.experiments.config import Experiment
from routing.tiers import TIERS
from storage.ledger import Dimension, Rollup, latency_percentiles, local_days, rollup, total

CHART_DAYS = 14
TOP_ITEMS = 5


@dataclass(frozen=True)
class DigestData:
    day: date
    zone: str
    baseline_model: str
    totals: Rollup
    previous_day_nano_usd: int
    week_average_nano_usd: int  # mean daily spend of the 7 days before `day`
    by_tier: tuple[Rollup, ...]
    by_model: tuple[Rollup, ...]
    by_channel: tuple[Rollup, ...]
    top_threads: tuple[Rollup, ...]
    month_to_date_nano_usd: int
    monthly_budget_nano_usd: int | None
    p50_ms: float | None
    p95_ms: float | None
    chart_days: tuple[date, ...]
    chart_series: dict[str, tuple[int, ...]]  # tier -> spend per chart day
    experiment_lines: tuple[str, ...] = ()  # one per running A/B experiment

    @property
    def average_nano_usd(self) -> int | None:
        return self.totals.nano_usd // self.totals.calls if self.totals.calls else None

    @property
    def change_vs_previous(self) -> float | None:
        return _change(self.totals.nano_usd, self.previous_day_nano_usd)

    @property
    def change_vs_week(self) -> float | None:
        return _change(self.totals.nano_usd, self.week_average_nano_usd)

    @property
    def savings_percent(self) -> float | None:
        base = self.totals.baseline_nano_usd
        return self.totals.savings_nano_usd * 100 / base if base else None

    @property
    def flagged_calls(self) -> int:
        return self.totals.estimated_calls + self.totals.unpriced_calls


def _change(now: int, before: int) -> float | None:
    return (now - before) * 100 / before if before else None


async def build_digest(
    db: AsyncEngine,
    day: date,
    zone: ZoneInfo,
    *,
    baseline_model: str,
    monthly_budget_nano_usd: int | None = None,
    experiments: Sequence[Experiment] = (),
) -> DigestData:
    days = local_days(day - timedelta(days=CHART_DAYS - 1), day, zone)
    today = days[-1]

    async def grouped(by: Dimension, limit: int | None = None) -> tuple[Rollup, ...]:
        return tuple(await rollup(db, start=today.start, end=today.end, by=(by,), limit=limit))

    per_day_tier = await rollup(db, start=days[0].start, end=today.end, by=("day", "tier"),
                                zone=zone)  # fmt: skip
    daily: dict[str, int] = {}
    series = {tier: [0] * len(days) for tier in (*TIERS, "")}
    index = {d.day.isoformat(): i for i, d in enumerate(days)}
    for group in per_day_tier:
        day_key, tier = group.key
        daily[day_key] = daily.get(day_key, 0) + group.nano_usd
        series.setdefault(tier, [0] * len(days))[index[day_key]] += group.nano_usd
    week = [daily.get((day - timedelta(days=n)).isoformat(), 0) for n in range(1, 8)]
    month_start = local_days(day.replace(day=1), day.replace(day=1), zone)[0].start
    month = await total(db, start=month_start, end=today.end)
    percentiles = await latency_percentiles(db, start=today.start, end=today.end)
    experiment_lines: list[str] = []
    if experiments:
        from bot.experiments.report import experiment_digest_lines  # scipy: only when there are any

        experiment_lines = await experiment_digest_lines(db, list(experiments), today.end)
    return DigestData(
        day=day,
        zone=zone.key,
        baseline_model=baseline_model,
        totals=await total(db, start=today.start, end=today.end),
        previous_day_nano_usd=daily.get((day - timedelta(days=1)).isoformat(), 0),
        week_average_nano_usd=sum(week) // len(week),
        by_tier=await grouped("tier"),
        by_model=await grouped("model"),
        by_channel=await grouped("channel"),
        top_threads=await grouped("thread", TOP_ITEMS),
        month_to_date_nano_usd=month.nano_usd,
        monthly_budget_nano_usd=monthly_budget_nano_usd,
        p50_ms=percentiles[0.5],
        p95_ms=percentiles[0.95],
        chart_days=tuple(d.day for d in days),
        chart_series={tier: tuple(values) for tier, values in series.items() if any(values)},
        experiment_lines=tuple(experiment_lines),
    )
