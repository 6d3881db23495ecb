"""Operator alerts after each call: budget thresholds, error-rate spikes, unknown prices.

Budget alerts only go up: per budget and period the highest threshold announced is a row
(`AlertMarks`), raised under a lock while the alert is posted, so any number of replicas post
each threshold at most once and never a lower one after a higher one; crossing several at
once posts one alert for the highest, naming the others. The check after each call reads the
`SpendMeter` (memory); the database is only touched when a threshold above the last one this
process knows of is reached, and then the amount is read exactly from the ledger.
An unknown price alerts once per (model, day), an error spike once per hour, by claiming a
unique row first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.notices import Notifier, alert_notice, broadcast
from bot.spend.meter import SpendMeter
from bot.spend.money import format_usd
from bot.spend.policy import Budget, BudgetPolicy, Window, spent, window
from storage.alert_marks import AlertMarks
from storage.claims import Claims
from storage.ledger import Ledger
from storage.records import CallRecord
from storage.tables import utcnow

log = logging.getLogger(__name__)

ANNOUNCE_TIMEOUT_S = 5.0


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
        meter: SpendMeter,
        marks: AlertMarks,
        spike: ErrorSpike | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._ledger, self._claims, self._policy = ledger, claims, policy
        self._notifiers = tuple(notifiers)
        self._meter, self._marks = meter, marks
        self._spike = spike or ErrorSpike()
        self._clock = clock
        self._settled: set[tuple[str, str, str]] = set()
        self._announced: dict[tuple[str, str], int] = {}  # (budget, period) -> highest mark seen

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

    def _highest(self, budget: Budget, amount: int) -> int:
        """The highest threshold `amount` reaches (0: none)."""
        reached = [t for t in self._policy.thresholds if amount * 100 >= budget.limit_nano_usd * t]
        return reached[-1] if reached else 0

    async def _check_budget(self, budget: Budget, now: datetime) -> None:
        win = window(budget.period, now, self._policy.zone)
        key = (budget.key, win.key)
        if self._highest(budget, await self._meter.spent(budget, win)) <= self._announced.get(
            key, 0
        ):
            return
        # Measured before the lock: this call's spend has landed, so the last call to land
        # sees every threshold its spend reaches, and the lock holder reads nothing more.
        amount = await spent(self._ledger, budget, win)

        async def announce(previous: int, threshold: int) -> None:
            await self._announce(budget, win, previous, threshold, amount)

        mark = await self._marks.raise_to(
            budget.key, win.key, self._highest(budget, amount), announce
        )
        self._announced[key] = max(mark, self._announced.get(key, 0))

    async def _announce(
        self, budget: Budget, win: Window, previous: int, threshold: int, amount: int
    ) -> None:
        passed = [t for t in self._policy.thresholds if previous < t < threshold]
        also = f" (also passed {', '.join(f'{t}%' for t in passed)})" if passed else ""
        share = amount * 100 / budget.limit_nano_usd if budget.limit_nano_usd else 100.0
        action = ""
        if threshold >= 100:
            resets = win.end.astimezone(self._policy.zone)
            doing = "blocking answers" if self._policy.action == "block" else "using budget models"
            action = f"Now {doing} until {resets:%a %d %b %H:%M} ({self._policy.zone.key})."
        title = f"Budget alert: {budget.label} at {threshold}%"
        body = (
            f"{format_usd(amount)} of {format_usd(budget.limit_nano_usd)} spent "
            f"({share:.0f}%) for {win.key}{also}. {action}".strip()
        )
        try:  # posted under the alert row's lock (on SQLite, every writer waits): bounded
            await asyncio.wait_for(self._send(title, body), ANNOUNCE_TIMEOUT_S)
        except TimeoutError:
            log.warning("budget alert %r took over %s s to post; not waiting for it", title,
                        ANNOUNCE_TIMEOUT_S)  # fmt: skip

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
