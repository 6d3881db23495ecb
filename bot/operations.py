"""What adapters can do besides asking a question: feedback, "solved" (and reviewing the
knowledge entry it proposes), spend, channel tier."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.spend.summary import SpendSummary, spend_summary
from routing.tiers import Tier
from storage.conversations import Conversations
from storage.ledger import Ledger
from storage.records import ThreadRef
from storage.signals import Signals
from storage.solved import Proposal
from storage.tables import utcnow

log = logging.getLogger(__name__)


class SolvedKnowledge(Protocol):
    """Solved threads proposed as knowledge entries (`bot.learning.solved.SolvedThreads`)."""

    async def propose(
        self, thread: ThreadRef, by: str, call_id: int | None = None, url: str | None = None
    ) -> Proposal | None: ...

    async def decide(self, proposal_id: int, approve: bool, by: str) -> Proposal | None: ...


@dataclass(frozen=True)
class Marked:
    """A thread marked solved, and the knowledge entry that proposed (None: nothing new to
    review; `proposal.pending` is False when KB_AUTO_APPROVE_SOLVED approved it at once)."""

    proposal: Proposal | None = None


class Operations:
    def __init__(
        self,
        conversations: Conversations,
        signals: Signals,
        ledger: Ledger,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
        solved: SolvedKnowledge | None = None,
    ) -> None:
        self._conversations = conversations
        self._signals = signals
        self._ledger = ledger
        self.zone = zone
        self._clock = clock
        self._solved = solved

    async def feedback(
        self, platform: str, post_id: str, user: str, value: int, source: str = "reaction"
    ) -> int | None:
        """Store +1/-1 (0 withdraws) on the answer posted as `post_id`; its call id, or None
        when that post is not one of our answers."""
        call_id = await self._conversations.call_for_post(platform, post_id)
        if call_id is not None:
            await self._signals.set_feedback(call_id, user, value, source)
        return call_id

    async def feedback_on_call(
        self, call_id: int, user: str, value: int, source: str = "button"
    ) -> bool:
        if await self._conversations.call(call_id) is None:
            return False
        await self._signals.set_feedback(call_id, user, value, source)
        return True

    async def solved(
        self,
        platform: str,
        workspace: str,
        channel: str,
        thread: str,
        user: str,
        url: str | None = None,
    ) -> Marked | None:
        """Mark the thread solved; None when the bot never took part in it. `url` links to
        the thread, for the knowledge entry it proposes."""
        ref = ThreadRef(platform, workspace, channel, thread)
        if not await self._signals.mark_solved(ref, user):
            return None
        return Marked(await self._propose(ref, user, None, url))

    async def solved_by_call(
        self, call_id: int, user: str, url: str | None = None
    ) -> Marked | None:
        """Mark solved the thread of the answer `call_id` (the answer that solved it); None
        when that answer is unknown."""
        call = await self._conversations.call(call_id)
        if call is None:
            return None
        ref = ThreadRef(call.platform, call.workspace, call.channel, call.thread_external_id)
        if not await self._signals.mark_solved(ref, user):
            return None
        return Marked(await self._propose(ref, user, call_id, url))

    async def _propose(
        self, ref: ThreadRef, user: str, call_id: int | None, url: str | None
    ) -> Proposal | None:
        if self._solved is None:
            return None
        try:
            return await self._solved.propose(ref, user, call_id, url)
        except Exception:  # the thread is marked solved whatever becomes of the proposal
            log.exception("could not propose solved thread %s as knowledge", ref.external_id)
            return None

    async def review(self, proposal_id: int, approve: bool, by: str) -> Proposal | None:
        """An admin's decision on a proposed knowledge entry (adapters check that `by` is an
        admin); None when it is not pending any more (decided, or replaced)."""
        if self._solved is None:
            return None
        return await self._solved.decide(proposal_id, approve, by)

    async def spend(self, platform: str, workspace: str, channel: str) -> SpendSummary:
        return await spend_summary(
            self._ledger, self.zone, platform, workspace, channel, self._clock()
        )

    async def set_channel_tier(
        self, platform: str, workspace: str, channel: str, tier: Tier | None, by: str
    ) -> None:
        """Set (or with None, clear: "auto") the channel's default tier."""
        await self._conversations.set_channel_tier(platform, workspace, channel, tier, by)

    async def knows_thread(self, platform: str, workspace: str, channel: str, thread: str) -> bool:
        """True when the bot already took part in this thread (Slack follow-ups need no mention)."""
        return await self._conversations.thread_exists(
            ThreadRef(platform, workspace, channel, thread)
        )
