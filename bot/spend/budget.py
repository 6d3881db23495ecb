"""Budgets enforced: the limits of `bot/spend/policy.py`, checked before each call.

Before a call the `BudgetGuard` checks every budget that applies; at 100% the configured action
applies: `downgrade` caps routing at the budget tier, `block` answers with when the budget resets.
Spend comes from the `SpendMeter` (memory, kept current with every recorded call; see its
docstring for how far it can lag). With `block`, each admitted call also holds its estimated
cost (prompt plus the output-token cap, at the routed model's price) until it is recorded, and
a call is only admitted while spend plus the holds is under the limit: concurrent questions
cannot all slip through at 99%. Spend past the limit is then bounded by what was in flight when
it was reached. Calls with an unknown price add nothing to spend: `SpendAlerts` flags them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.conversation.engine import GuardVerdict
from bot.llm.calls import Hold
from bot.llm.types import Asker
from bot.spend.meter import SpendMeter
from bot.spend.money import format_usd
from bot.spend.policy import Budget, BudgetPolicy, Window, whose, window
from storage.tables import utcnow


def block_message(budget: Budget, win: Window, zone: ZoneInfo) -> str:
    resets = win.end.astimezone(zone)
    return (
        f"Sorry, the {budget.label} ({format_usd(budget.limit_nano_usd)}) is spent, so I can't "
        f"answer right now. It resets at {resets:%H:%M} on {resets:%a %d %b %Y} ({zone.key})."
    )


# Nano-dollars a call may cost at most: (model, prompt tokens) -> None when the price is unknown.
Estimate = Callable[[str, int], int | None]


class BudgetGuard:
    """The engine's `Guard` and the call path's `Holds`: checks each applicable budget before
    a call, from the meter, and holds each call's estimated cost while it runs."""

    def __init__(
        self,
        meter: SpendMeter,
        policy: BudgetPolicy,
        clock: Callable[[], datetime] = utcnow,
        estimate: Estimate | None = None,
    ) -> None:
        self._meter, self._policy, self._clock = meter, policy, clock
        self._estimate = estimate

    def _budgets(self, asker: Asker) -> list[tuple[Budget, Window]]:
        policy, now = self._policy, self._clock()
        found = policy.budgets(asker.platform, asker.workspace, asker.channel, asker.user)
        return [(b, window(b.period, now, policy.zone)) for b in found]

    async def check(self, asker: Asker) -> GuardVerdict:
        """The engine's `Guard`: before routing, from the meter."""
        spent_out: list[tuple[Budget, Window]] = []
        for budget, win in self._budgets(asker):
            if await self._meter.spent(budget, win) >= budget.limit_nano_usd:
                spent_out.append((budget, win))
        if not spent_out:
            return GuardVerdict()
        if self._policy.action == "downgrade":
            return GuardVerdict(ceiling_tier="budget")
        return GuardVerdict(block_message=self._block(spent_out))

    async def reserve(self, asker: Asker, model: str, prompt_tokens: int) -> Hold:
        """The call path's `Holds`. With `block`: hold this call's estimated cost, or refuse
        it when spend plus the calls already in flight has reached a limit. Nothing to hold
        with `downgrade`."""
        if self._policy.action != "block":
            return Hold()
        budgets = self._budgets(asker)
        if not budgets:
            return Hold()
        full = []
        for budget, win in budgets:
            # No await between these reads and the reservation below unless a period has to be
            # read first: concurrent questions see each other's holds.
            used = await self._meter.spent(budget, win) + self._meter.reserved(budget, win)
            if used >= budget.limit_nano_usd:
                full.append((budget, win))
        if full:
            return Hold(block_message=self._block(full))
        cost = (self._estimate(model, prompt_tokens) if self._estimate else None) or 0
        reservation = self._meter.reserve(tuple((w.key, whose(b)) for b, w in budgets), cost)
        return Hold(release=reservation.release)

    def _block(self, spent_out: list[tuple[Budget, Window]]) -> str:
        # Name the budget that stays spent longest: that is when answers come back.
        budget, win = max(spent_out, key=lambda pair: pair[1].end)
        return block_message(budget, win, self._policy.zone)

    async def past_first_threshold(self, asker: Asker) -> bool:
        """True when any budget that applies has reached its first alert threshold: background
        spending (shadow comparisons) pauses until the period resets."""
        policy = self._policy
        if not policy.thresholds:
            return False
        first = min(policy.thresholds)
        for budget, win in self._budgets(asker):
            if await self._meter.spent(budget, win) * 100 >= budget.limit_nano_usd * first:
                return True
        return False
