"""What each budget has spent in its current period, kept in memory: read from the ledger once
per period, then kept current with every call this process records, and re-read from the
ledger in the background every `refresh_s` seconds for what other processes recorded.

A budget check is then a dictionary lookup (no query per message). How far the figures can
lag the ledger, and so how far spend can pass a limit:
- calls this process recorded: never (each is added as it is stored);
- calls other replicas (or scripts) recorded: at most what they recorded in the last
  `refresh_s` seconds plus one refresh query's run time;
- calls in flight (asked, not yet recorded): the `block` action holds each call's estimated
  cost as a reservation from the check until the call is recorded, so within one process
  spend past a limit is bounded by the estimates' error; across replicas, also by the other
  replicas' calls in flight, which this process cannot see.
A call recorded while a refresh query runs may be counted twice until the next refresh (it
errs towards blocking early, by at most that call, for at most `refresh_s`). `refresh_s` = 0
reads the ledger at every check instead (exact across replicas; a few queries per message).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.spend.policy import Budget, BudgetPolicy, Period, Whose, Window, whose, window
from storage.ledger import Ledger
from storage.records import CallRecord
from storage.rollups import Dimension
from storage.tables import utcnow

log = logging.getLogger(__name__)

DEFAULT_REFRESH_S = 5.0


def record_scopes(record: CallRecord) -> tuple[Whose, ...]:
    return (
        ("deployment",),
        ("channel", record.platform, record.workspace, record.channel),
        ("user", record.platform, record.workspace, record.user),
    )


@dataclass
class _Period:
    """One period's spend: as read from the ledger, plus what was recorded here since."""

    win: Window
    base: dict[Whose, int]
    local: dict[Whose, int]
    read_at: float

    def spent(self, key: Whose) -> int:
        return self.base.get(key, 0) + self.local.get(key, 0)


@dataclass(frozen=True)
class Reservation:
    """Spend held for one call in flight; `release()` once its cost is recorded."""

    meter: SpendMeter | None = None
    holds: tuple[tuple[str, Whose], ...] = ()
    nano_usd: int = 0

    def release(self) -> None:
        if self.meter is not None:
            self.meter.release(self)


class SpendMeter:
    """Spend per budget and period (a `CallObserver`: register it before the alerts)."""

    def __init__(
        self,
        ledger: Ledger,
        policy: BudgetPolicy,
        *,
        refresh_s: float = DEFAULT_REFRESH_S,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger, self._policy = ledger, policy
        self._refresh_s, self._clock, self._monotonic = refresh_s, clock, monotonic
        self._periods: dict[str, _Period] = {}  # by window key ("2026-11-28", "2026-11")
        self._tasks: dict[str, asyncio.Task[_Period]] = {}
        self._reads: dict[str, tuple[Window, dict[Whose, int]]] = {}
        self._reserved: dict[tuple[str, Whose], int] = defaultdict(int)

    def window(self, period: Period, now: datetime | None = None) -> Window:
        return window(period, now or self._clock(), self._policy.zone)

    async def spent(self, budget: Budget, win: Window) -> int:
        """Recorded spend of `budget` in `win` (reads the ledger only for a new period)."""
        state = self._periods.get(win.key)
        if state is None or self._refresh_s <= 0:  # 0: read the ledger at every check
            state = await asyncio.shield(self._fetch(win))
        elif self._monotonic() - state.read_at >= self._refresh_s:
            self._fetch(win)  # in the background: this check uses the figures it has
        return state.spent(whose(budget))

    def reserved(self, budget: Budget, win: Window) -> int:
        return self._reserved.get((win.key, whose(budget)), 0)

    def reserve(self, holds: tuple[tuple[str, Whose], ...], nano_usd: int) -> Reservation:
        for hold in holds:
            self._reserved[hold] += nano_usd
        return Reservation(self, holds, nano_usd)

    def release(self, reservation: Reservation) -> None:
        for hold in reservation.holds:
            left = self._reserved[hold] - reservation.nano_usd
            if left > 0:
                self._reserved[hold] = left
            else:
                self._reserved.pop(hold, None)

    async def on_call(self, call_id: int, record: CallRecord) -> None:
        cost = record.cost_nano_usd
        if not cost:
            return  # unpriced (None) adds nothing to spend; SpendAlerts flags it
        when = record.created_at or self._clock()
        tallies = [s.local for s in self._periods.values() if s.win.start <= when < s.win.end]
        tallies += [tally for win, tally in self._reads.values() if win.start <= when < win.end]
        for tally in tallies:
            for key in record_scopes(record):
                tally[key] += cost

    # --- reading the ledger -----------------------------------------------------------

    def _fetch(self, win: Window) -> asyncio.Task[_Period]:
        """The read of `win` in progress, or a new one: one query per period at a time."""
        task = self._tasks.get(win.key)
        if task is None:
            task = asyncio.create_task(self._read(win), name=f"budget-spend-{win.key}")
            self._tasks[win.key] = task
            task.add_done_callback(lambda done: self._fetched(win, done))
        return task

    async def _read(self, win: Window) -> _Period:
        # Calls recorded while the query runs may or may not be in its result: count them
        # (see the module docstring: at worst twice, until the next refresh).
        tally: dict[Whose, int] = defaultdict(int)
        self._reads[win.key] = (win, tally)
        try:
            base = await self._query(win)
        finally:
            del self._reads[win.key]
        state = _Period(win, base, tally, self._monotonic())
        self._periods[win.key] = state
        self._forget_before(win)
        return state

    def _fetched(self, win: Window, task: asyncio.Task[_Period]) -> None:
        self._tasks.pop(win.key, None)
        if task.cancelled() or task.exception() is None:
            return
        log.warning("reading budget spend for %s failed: %s", win.key, task.exception())
        state = self._periods.get(win.key)
        if state is not None:  # keep the figures we have; try again after refresh_s
            state.read_at = self._monotonic()

    async def _query(self, win: Window) -> dict[Whose, int]:
        """Spend in `win` per deployment, and per channel and per user when such budgets exist."""
        ledger, policy = self._ledger, self._policy
        found: dict[Whose, int] = {
            ("deployment",): (await ledger.total(start=win.start, end=win.end)).nano_usd
        }
        if len(win.key) == 10:  # a day: channel and user budgets are daily
            per: tuple[tuple[Dimension, bool], ...] = (
                ("channel", policy.channel_daily_nano_usd is not None),
                ("user", policy.user_daily_nano_usd is not None),
            )
            for name, wanted in per:
                if wanted:
                    by: tuple[Dimension, ...] = ("platform", "workspace", name)
                    for g in await ledger.rollup(start=win.start, end=win.end, by=by):
                        found[(name, *g.key)] = g.nano_usd
        return found

    def _forget_before(self, current: Window) -> None:
        for key, state in list(self._periods.items()):
            if state.win.end <= current.start:
                del self._periods[key]

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
