"""The daily digest: one local day's figures, aggregated in SQL by the ledger, as a neutral
`Notice` that each platform adapter renders in its own form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.notices import Notice, NoticeTable
from bot.spend.money import format_usd, savings_words
from routing.tiers import TIERS
from storage.ledger import Ledger
from storage.rollups import Dimension, QualityCounts, Rollup, local_days

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
    by_purpose: tuple[Rollup, ...]  # answer, judge, shadow, check, embedding
    month_to_date_nano_usd: int
    monthly_budget_nano_usd: int | None
    p50_ms: float | None
    p95_ms: float | None
    chart_days: tuple[date, ...]
    chart_series: dict[str, tuple[int, ...]]  # tier -> spend per chart day
    quality: QualityCounts
    experiment_lines: tuple[str, ...] = ()  # one per running A/B experiment
    quality_lines: tuple[str, ...] = ()  # judged quality per tier (shadow comparisons)
    knowledge_lines: tuple[str, ...] = ()  # answered from the docs, most cited, content gaps

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
    ledger: Ledger,
    day: date,
    zone: ZoneInfo,
    *,
    baseline_model: str,
    monthly_budget_nano_usd: int | None = None,
    experiment_lines: Sequence[str] = (),
    quality_lines: Sequence[str] = (),
    knowledge_lines: Sequence[str] = (),
) -> DigestData:
    days = local_days(day - timedelta(days=CHART_DAYS - 1), day, zone)
    today = days[-1]

    async def grouped(by: Dimension, limit: int | None = None) -> tuple[Rollup, ...]:
        return tuple(await ledger.rollup(start=today.start, end=today.end, by=(by,), limit=limit))

    per_day_tier = await ledger.rollup(
        start=days[0].start, end=today.end, by=("day", "tier"), zone=zone
    )
    daily: dict[str, int] = {}
    series = {tier: [0] * len(days) for tier in (*TIERS, "")}
    index = {d.day.isoformat(): i for i, d in enumerate(days)}
    for group in per_day_tier:
        day_key, tier = group.key
        daily[day_key] = daily.get(day_key, 0) + group.nano_usd
        series.setdefault(tier, [0] * len(days))[index[day_key]] += group.nano_usd
    week = [daily.get((day - timedelta(days=n)).isoformat(), 0) for n in range(1, 8)]
    month_start = local_days(day.replace(day=1), day.replace(day=1), zone)[0].start
    month = await ledger.total(start=month_start, end=today.end)
    percentiles = await ledger.latency_percentiles(start=today.start, end=today.end)
    return DigestData(
        day=day,
        zone=zone.key,
        baseline_model=baseline_model,
        totals=await ledger.total(start=today.start, end=today.end),
        previous_day_nano_usd=daily.get((day - timedelta(days=1)).isoformat(), 0),
        week_average_nano_usd=sum(week) // len(week),
        by_tier=await grouped("tier"),
        by_model=await grouped("model"),
        by_channel=await grouped("channel"),
        top_threads=await grouped("thread", TOP_ITEMS),
        by_purpose=await grouped("purpose"),
        month_to_date_nano_usd=month.nano_usd,
        monthly_budget_nano_usd=monthly_budget_nano_usd,
        p50_ms=percentiles[0.5],
        p95_ms=percentiles[0.95],
        chart_days=tuple(d.day for d in days),
        chart_series={tier: tuple(values) for tier, values in series.items() if any(values)},
        quality=await ledger.quality_counts(start=today.start, end=today.end),
        experiment_lines=tuple(experiment_lines),
        quality_lines=tuple(quality_lines),
        knowledge_lines=tuple(knowledge_lines),
    )


def title(d: DigestData) -> str:
    return f"Switchboard spend for {d.day:%a %d %b %Y}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def headline(d: DigestData) -> list[tuple[str, str]]:
    """(label, value) pairs: the fields every form shows."""
    t = d.totals
    avg = d.average_nano_usd
    budget = d.monthly_budget_nano_usd
    month = format_usd(d.month_to_date_nano_usd)
    if budget:
        month += f" of {format_usd(budget)} ({d.month_to_date_nano_usd * 100 / budget:.0f}%)"
    saved = savings_words(t.savings_nano_usd, d.savings_percent)
    q = d.quality
    return [
        ("Spend", format_usd(t.nano_usd)),
        ("Calls", f"{t.calls:,} ({'n/a' if avg is None else format_usd(avg)} per call)"),
        ("vs day before", f"{_pct(d.change_vs_previous)} ({format_usd(d.previous_day_nano_usd)})"),
        ("vs 7-day average", f"{_pct(d.change_vs_week)} ({format_usd(d.week_average_nano_usd)})"),
        (f"Baseline ({d.baseline_model})", format_usd(t.baseline_nano_usd)),
        ("Saved by routing", saved),
        ("Month to date", month),
        ("Errors", f"{t.errors:,}"),
        ("Latency p50 / p95", f"{_ms(d.p50_ms)} / {_ms(d.p95_ms)}"),
        (
            "Estimated or unpriced calls",
            f"{t.estimated_calls:,} estimated, {t.unpriced_calls:,} unpriced",
        ),
        (
            "Feedback",
            f"{q.thumbs_up:,} 👍, {q.thumbs_down:,} 👎, {q.escalations:,} escalated, "
            f"{q.solved_threads:,} solved",
        ),
    ]


def _table(name: str, groups: Sequence[Rollup]) -> NoticeTable:
    rows = tuple((g.key[0] or "(none)", format_usd(g.nano_usd), f"{g.calls:,}") for g in groups)
    return NoticeTable(name, rows)


def digest_notice(d: DigestData, chart_png: bytes | None = None) -> Notice:
    notes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if d.quality_lines:  # savings are never shown without what they cost in quality
        notes += (("Judged quality, last 30 days", d.quality_lines),)
    if d.experiment_lines:
        notes += (("Experiments", d.experiment_lines),)
    if d.knowledge_lines:
        notes += (("Knowledge base", d.knowledge_lines),)
    tables = [
        _table("By tier", d.by_tier[:TOP_ITEMS]),
        _table("By model", d.by_model[:TOP_ITEMS]),
        _table("By channel", d.by_channel[:TOP_ITEMS]),
        _table("Top threads", d.top_threads),
    ]
    if any(g.key[0] != "answer" for g in d.by_purpose):  # judge, shadow, checks: on their own
        tables.append(_table("By purpose", d.by_purpose))
    return Notice(
        title=title(d),
        body=f"{format_usd(d.totals.nano_usd)} over {d.totals.calls:,} calls",
        fields=tuple(headline(d)),
        tables=tuple(tables),
        notes=notes,
        footer=(
            f"Day in {d.zone} · savings = same tokens priced at {d.baseline_model} · "
            f"{d.flagged_calls} estimated/unpriced call(s) not fully counted"
        ),
        chart_png=chart_png,
    )
