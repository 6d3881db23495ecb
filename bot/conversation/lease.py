"""A question's lease: the replica answering it holds it, renewed while it answers, so no other
replica takes the question over; one that ran out (a crash) may be claimed by another."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from storage.conversations import Conversations
from storage.records import StartedTurn


class Leases:
    def __init__(
        self, conversations: Conversations, lease_s: float, clock: Callable[[], datetime]
    ) -> None:
        self._conversations, self._lease_s, self._clock = conversations, lease_s, clock
        self._holding: set[int] = set()  # questions this process is answering now

    def holds(self, message_id: int) -> bool:
        return message_id in self._holding

    def end(self) -> datetime:
        """Until when a lease taken or renewed now runs."""
        return self._clock() + timedelta(seconds=self._lease_s)

    @asynccontextmanager
    async def held(self, turn: StartedTurn) -> AsyncIterator[None]:
        """Renew `turn`'s lease (every third of its length) while inside."""
        if not turn.owner:
            yield
            return
        renewer = asyncio.create_task(self._renew(turn), name=f"lease-{turn.message_id}")
        self._holding.add(turn.message_id)
        try:
            yield
        finally:
            self._holding.discard(turn.message_id)
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)

    async def _renew(self, turn: StartedTurn) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            await self._conversations.renew(turn.message_id, turn.owner, self.end())

