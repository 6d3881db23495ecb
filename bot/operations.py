"""What adapters can do besides asking a question: feedback, "solved", spend, channel tier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.spend.summary import SpendSummary, spend_summary
from routing.tiers import Tier
from storage.conversations import Conversations
from storage.ledger import Ledger
from storage.records import ThreadRef
from storage.signals import Signals
from storage.tables import utcnow


class Operations:
    def __init__(
        self,
        conversations: Conversations,
        signals: Signals,
        ledger: Ledger,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._conversations = conversations
        self._signals = signals
        self._ledger = ledger
        self.zone = zone
        self._clock = clock

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
        self, platform: str, workspace: str, channel: str, thread: str, user: str
    ) -> bool:
        """Mark the thread solved; False when the bot never took part in it."""
        ref = ThreadRef(platform, workspace, channel, thread)
        return await self._signals.mark_solved(ref, user)

    async def solved_by_call(self, call_id: int, user: str) -> bool:
        """Mark solved the thread of the answer `call_id`; False when that answer is unknown."""
        call = await self._conversations.call(call_id)
        if call is None:
            return False
        ref = ThreadRef(call.platform, call.workspace, call.channel, call.thread_external_id)
        return await self._signals.mark_solved(ref, user)

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
