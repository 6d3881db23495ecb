"""Spend so far today and this month, for the platform `spend` commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.spend.money import format_usd
from storage.ledger import Ledger, SpendTotal


@dataclass(frozen=True)
class SpendSummary:
    channel_today: SpendTotal
    channel_month: SpendTotal
    workspace_today: SpendTotal
    workspace_month: SpendTotal

    def text(self) -> str:
        def line(label: str, total: SpendTotal) -> str:
            unpriced = f", {total.unpriced_calls} unpriced" if total.unpriced_calls else ""
            return f"{label}: {format_usd(total.nano_usd)} over {total.calls} calls{unpriced}"

        return "\n".join(
            (
                line("This channel today", self.channel_today),
                line("This channel this month", self.channel_month),
                line("Whole workspace today", self.workspace_today),
                line("Whole workspace this month", self.workspace_month),
            )
        )


def day_and_month_start(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    local = now.astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


async def spend_summary(
    ledger: Ledger, zone: ZoneInfo, platform: str, workspace: str, channel: str, now: datetime
) -> SpendSummary:
    day, month = day_and_month_start(now, zone)
    end = now + timedelta(seconds=1)
    scope = {"platform": platform, "workspace": workspace}
    return SpendSummary(
        channel_today=await ledger.spend_total(start=day, end=end, channel=channel, **scope),
        channel_month=await ledger.spend_total(start=month, end=end, channel=channel, **scope),
        workspace_today=await ledger.spend_total(start=day, end=end, **scope),
        workspace_month=await ledger.spend_total(start=month, end=end, **scope),
    )
