"""The overview page's figures: today and the month against each budget, savings, the chart.

Every figure comes from `Ledger.total` / `Ledger.rollup` over whole local days, the same
windows the budget guard and `switchboard report` use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

from adapters.web.chart import spend_chart_svg
from adapters.web.periods import Period, last_days, month_to_date, today
from bot.spend.policy import BudgetPolicy
from routing.tiers import TIERS
from storage.ledger import Ledger
from storage.rollups import Dimension, Rollup

CHART_DAYS = (30, 90)
TOP_SCOPED = 5  # channels / users shown against their per-channel / per-user daily budget


@dataclass(frozen=True)
class BudgetLine:
    label: str
    limit_nano_usd: int
    spent_nano_usd: int
    thresholds: tuple[int, ...]  # alert percentages

    @property
    def percent(self) -> float:
        return self.spent_nano_usd * 100 / self.limit_nano_usd if self.limit_nano_usd else 100.0

    @property
    def crossed(self) -> int | None:
        """The highest alert threshold reached, if any."""
        reached = [t for t in self.thresholds if self.percent >= t]
        return max(reached) if reached else None

    @property
    def state(self) -> str:
        if self.percent >= 100:
            return "over"
        return "warn" if self.crossed is not None else "ok"


@dataclass(frozen=True)
class ScopedBudgets:
    """A per-channel or per-user daily limit, with today's biggest spenders against it."""

    title: str
    limit_nano_usd: int
    lines: tuple[BudgetLine, ...]


@dataclass(frozen=True)
class Overview:
    now: datetime  # local
    zone: str
    baseline_model: str
    today: Period
    month: Period
    today_totals: Rollup
    month_totals: Rollup
    budgets: tuple[BudgetLine, ...]
    scoped: tuple[ScopedBudgets, ...]
    chart_period: Period
    chart_days: int
    chart_total_nano_usd: int
    chart: Markup
    action: str  # what happens at 100%: downgrade | block
    thresholds: tuple[int, ...]


def savings_percent(totals: Rollup) -> float | None:
    base = totals.baseline_nano_usd
    return totals.savings_nano_usd * 100 / base if base else None


async def _scoped(
    ledger: Ledger, day: Period, policy: BudgetPolicy, who: Dimension, limit: int | None
) -> ScopedBudgets | None:
    if limit is None:
        return None
    groups = await ledger.rollup(
        start=day.start, end=day.end, by=("platform", "workspace", who), limit=TOP_SCOPED + 1
    )
    lines = tuple(
        BudgetLine(f"{g.key[2]} ({g.key[0]})", limit, g.nano_usd, policy.thresholds)
        for g in groups
        if g.key[2]  # calls without a user have no user budget
    )[:TOP_SCOPED]
    return ScopedBudgets(f"Daily budget per {who}", limit, lines)


async def _chart(ledger: Ledger, period: Period) -> tuple[Markup, int]:
    groups = await ledger.rollup(
        start=period.start, end=period.end, by=("day", "tier"), zone=period.zone
    )
    days = [d.day for d in period.days]
    index = {d.isoformat(): i for i, d in enumerate(days)}
    series: dict[str, list[int]] = {tier: [0] * len(days) for tier in (*TIERS, "")}
    for group in groups:
        day_key, tier = group.key
        series.setdefault(tier, [0] * len(days))[index[day_key]] += group.nano_usd
    shown = {tier: values for tier, values in series.items() if any(values)}
    return spend_chart_svg(days, shown), sum(g.nano_usd for g in groups)


async def build_overview(
    ledger: Ledger,
    policy: BudgetPolicy,
    zone: ZoneInfo,
    now: datetime,
    *,
    baseline_model: str,
    chart_days: int = CHART_DAYS[0],
) -> Overview:
    day = Period(today(now, zone), today(now, zone), zone)
    month = month_to_date(now, zone)
    today_totals = await ledger.total(start=day.start, end=day.end)
    month_totals = await ledger.total(start=month.start, end=month.end)
    budgets = []
    if policy.daily_nano_usd is not None:
        budgets.append(BudgetLine("Daily budget (today)", policy.daily_nano_usd,
                                  today_totals.nano_usd, policy.thresholds))  # fmt: skip
    if policy.monthly_nano_usd is not None:
        budgets.append(BudgetLine("Monthly budget (this month)", policy.monthly_nano_usd,
                                  month_totals.nano_usd, policy.thresholds))  # fmt: skip
    scoped = [
        await _scoped(ledger, day, policy, "channel", policy.channel_daily_nano_usd),
        await _scoped(ledger, day, policy, "user", policy.user_daily_nano_usd),
    ]
    chart_period = last_days(chart_days, now, zone)
    chart, chart_total = await _chart(ledger, chart_period)
    return Overview(
        now=now.astimezone(zone),
        zone=zone.key,
        baseline_model=baseline_model,
        today=day,
        month=month,
        today_totals=today_totals,
        month_totals=month_totals,
        budgets=tuple(budgets),
        scoped=tuple(s for s in scoped if s is not None),
        chart_period=chart_period,
        chart_days=chart_days,
        chart_total_nano_usd=chart_total,
        chart=chart,
        action=policy.action,
        thresholds=policy.thresholds,
    )
