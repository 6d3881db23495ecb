"""Budgets as configured: daily and monthly limits for the deployment, a channel or a user
(`BudgetPolicy`, from settings), each over a window of local time, and what one has spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.settings import Settings
from bot.spend.money import to_nano
from storage.ledger import Ledger
from storage.rollups import UTC_ZONE

Period = Literal["day", "month"]


@dataclass(frozen=True)
class Window:
    """One budget period in local time, with its UTC bounds and the key its alerts claim."""

    key: str  # "2026-11-28" or "2026-11"
    start: datetime
    end: datetime


def window(period: Period, now: datetime, zone: ZoneInfo) -> Window:
    local = now.astimezone(zone).date()
    if period == "day":
        first, following = local, local + timedelta(days=1)
        key = local.isoformat()
    else:
        first = local.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        key = first.isoformat()[:7]
    return Window(key, _midnight(first, zone), _midnight(following, zone))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True)
class Budget:
    """One limit as it applies to one message: whose spend, over which period, how much."""

    label: str  # "daily budget", "daily budget for channel C1"
    key: str  # stable id for alert claims
    period: Period
    limit_nano_usd: int
    platform: str | None = None
    workspace: str | None = None
    channel: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class BudgetPolicy:
    daily_nano_usd: int | None = None
    monthly_nano_usd: int | None = None
    channel_daily_nano_usd: int | None = None
    user_daily_nano_usd: int | None = None
    thresholds: tuple[int, ...] = (50, 80, 100)
    action: Literal["downgrade", "block"] = "downgrade"
    zone: ZoneInfo = UTC_ZONE

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetPolicy:
        return cls(
            daily_nano_usd=to_nano(settings.budget_daily_usd),
            monthly_nano_usd=to_nano(settings.budget_monthly_usd),
            channel_daily_nano_usd=to_nano(settings.budget_channel_daily_usd),
            user_daily_nano_usd=to_nano(settings.budget_user_daily_usd),
            thresholds=tuple(sorted(set(settings.budget_alert_thresholds))),
            action=settings.budget_action,
            zone=ZoneInfo(settings.timezone),
        )

    def budgets(self, platform: str, workspace: str, channel: str, user: str) -> list[Budget]:
        found = []
        if self.daily_nano_usd is not None:
            found.append(Budget("daily budget", "deployment:day", "day", self.daily_nano_usd))
        if self.monthly_nano_usd is not None:
            found.append(
                Budget("monthly budget", "deployment:month", "month", self.monthly_nano_usd)
            )
        if self.channel_daily_nano_usd is not None:
            found.append(
                Budget(
                    f"daily budget for channel {channel}",
                    f"channel:{platform}:{workspace}:{channel}",
                    "day",
                    self.channel_daily_nano_usd,
                    platform,
                    workspace,
                    channel,
                )
            )
        if self.user_daily_nano_usd is not None and user:
            found.append(
                Budget(
                    f"daily budget for user {user}",
                    f"user:{platform}:{workspace}:{user}",
                    "day",
                    self.user_daily_nano_usd,
                    platform,
                    workspace,
                    user=user,
                )
            )
        return found


# Whose spend a budget limits: ("deployment",), ("channel", p, w, c) or ("user", p, w, u).
Whose = tuple[str, ...]


def whose(budget: Budget) -> Whose:
    if budget.user is not None:
        return ("user", budget.platform or "", budget.workspace or "", budget.user)
    if budget.channel is not None:
        return ("channel", budget.platform or "", budget.workspace or "", budget.channel)
    return ("deployment",)


async def spent(ledger: Ledger, budget: Budget, win: Window) -> int:
    result = await ledger.spend_total(
        start=win.start,
        end=win.end,
        platform=budget.platform,
        workspace=budget.workspace,
        channel=budget.channel,
        user=budget.user,
    )
    return result.nano_usd
