"""Operator alerts after each call: budget thresholds, error-rate spikes, unknown prices.

Each alert is sent at most once per (budget, threshold, period) — or per (model, day) for an
unknown price, per hour for an error spike — by claiming a unique row first, so concurrent calls
and several replicas still send it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.notices import alert_notice, broadcast
from bot.ports import Notifier
from bot.spend.budget import Budget, BudgetPolicy, spent, window
from bot.spend.money import format_usd
from storage.claims import Claims
from storage.ledger import Ledger
from storage.records import CallRecord
from storage.tables import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorSpike:
    """When the share of failed calls over a recent window is worth waking someone up.

    Defaults: at least 20 calls in 15 minutes, a quarter of them failed (a few retries on a busy
    day do not qualify; a provider outage does).
    """

    window: timedelta = timedelta(minutes=15)
    min_calls: int = 20
    min_error_rate: float = 0.25


class SpendAlerts:
    """A `CallObserver` that alerts the operators through `notifiers`."""

    def __init__(
        self,
        ledger: Ledger,
        claims: Claims,
        policy: BudgetPolicy,
        notifiers: Sequence[Notifier],
        *,
        spike: ErrorSpike | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._ledger, self._claims, self._policy = ledger, claims, policy
        self._notifiers = tuple(notifiers)
        self._spike = spike or ErrorSpike()
        self._clock = clock
        self._settled: set[tuple[str, str, str]] = set()

    async def on_call(self, call_id: int, record: CallRecord) -> None:
        now = record.created_at or self._clock()
        budgets = self._policy.budgets(record.platform, record.workspace, record.channel,
                                       record.user)  # fmt: skip
        for budget in budgets:
            await self._check_budget(budget, now)
        if record.cost_source == "unpriced":
            await self._unpriced(record, now)
        if record.status == "error":
            await self._error_spike(now)

    async def _check_budget(self, budget: Budget, now: datetime) -> None:
        win = window(budget.period, now, self._policy.zone)
        amount = await spent(self._ledger, budget, win)
        reached = [t for t in self._policy.thresholds if amount * 100 >= budget.limit_nano_usd * t]
        if not reached:
            return
        # Only the highest threshold reached alerts: lower ones it jumped over are settled
        # silently, so a burst of concurrent calls never sends a stale "50%" after an "80%".
        threshold = reached[-1]
        won = await self._claim("budget-alert", f"{budget.key}@{threshold}", win.key)
        for lower in reached[:-1]:
            await self._claim("budget-alert", f"{budget.key}@{lower}", win.key)
        if not won:
            return
        share = amount * 100 / budget.limit_nano_usd if budget.limit_nano_usd else 100.0
        action = ""
        if threshold >= 100:
            resets = win.end.astimezone(self._policy.zone)
            doing = "blocking answers" if self._policy.action == "block" else "using budget models"
            action = f"Now {doing} until {resets:%a %d %b %H:%M} ({self._policy.zone.key})."
        await self._send(
            f"Budget alert: {budget.label} at {threshold}%",
            f"{format_usd(amount)} of {format_usd(budget.limit_nano_usd)} spent "
            f"({share:.0f}%) for {win.key}. {action}".strip(),
        )

    async def _unpriced(self, record: CallRecord, now: datetime) -> None:
        model = record.model_served or record.model_asked
        day = window("day", now, self._policy.zone).key
        if await self._claim("unpriced-alert", model, day):
            await self._send(
                f"Unknown price: {model}",
                f"Calls to {model} have no known price, so they are not counted in spend or "
                f"budgets (they are flagged as unpriced). Add a price for it (first seen {day}).",
            )

    async def _error_spike(self, now: datetime) -> None:
        spike = self._spike
        recent = await self._ledger.total(start=now - spike.window, end=now + timedelta(seconds=1))
        if recent.calls < spike.min_calls or recent.errors < spike.min_error_rate * recent.calls:
            return
        hour = now.astimezone(self._policy.zone).strftime("%Y-%m-%dT%H")
        if await self._claim("error-alert", "deployment", hour):
            minutes = int(spike.window.total_seconds() // 60)
            await self._send(
                "Error-rate spike",
                f"{recent.errors} of {recent.calls} LLM calls failed in the last {minutes} "
                f"minutes ({recent.errors * 100 / recent.calls:.0f}%).",
            )

    async def _claim(self, job: str, scope: str, period: str) -> bool:
        """Claim once; remember settled claims so later calls skip the database write."""
        key = (job, scope, period)
        if key in self._settled:
            return False
        won = await self._claims.claim(job, scope, period)
        self._settled.add(key)
        return won

    async def _send(self, title: str, body: str) -> None:
        log.info("alert: %s", title)
        await broadcast(self._notifiers, alert_notice(title, body))
