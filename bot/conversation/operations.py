"""What adapters can do besides asking a question: feedback, "solved", spend, channel tier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.spend.summary import SpendSummary, spend_summary
from routing.tiers import Tier
from storage.conversations import Conversations, ThreadRef
from storage.signals import mark_solved, set_feedback
from storage.tables import utcnow


class Operations:
    def __init__(
        self,
        conversations: Conversations,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.conversations = conversations
        self.zone = zone
        self._clock = clock

    @property
    def db(self) -> AsyncEngine:
        return self.conversations.engine

    async def feedback(
        self, platform: str, post_id: str, user: str, value: int, source: str = "reaction"
    ) -> int | None:
        """Store +1/-1 (0 withdraws) on the answer posted as `post_id`; its call id, or None
        when that post is not one of our answers."""
        call_id = await self.conversations.call_for_post(platform, post_id)
        if call_id is not None:
            await set_feedback(self.db, call_id, user, value, source)
        return call_id

    async def feedback_on_call(
        self, call_id: int, user: str, value: int, source: str = "button"
    ) -> bool:
        if await self.conversations.call(call_id) is None:
            return False
        await set_feedback(self.db, call_id, user, value, source)
        return True

    async def solved(
        self, platform: str, workspace: str, channel: str, thread: str, user: str
    ) -> bool:
        return await mark_solved(self.db, ThreadRef(platform, workspace, channel, thread), user)

    async def spend(self, platform: str, workspace: str, channel: str) -> SpendSummary:
        return await spend_summary(self.db, self.zone, platform, workspace, channel, self._clock())

    async def set_channel_tier(
        self, platform: str, workspace: str, channel: str, tier: Tier | None, by: str
    ) -> None:
        """Set (or with None, clear: "auto") the channel's default tier."""
        await self.conversations.set_channel_tier(platform, workspace, channel, tier, by)

    async def knows_thread(self, platform: str, workspace: str, channel: str, thread: str) -> bool:
        """True when the bot already took part in this thread (Slack follow-ups need no mention)."""
        return await self.conversations.thread_exists(
            ThreadRef(platform, workspace, channel, thread)
        )
