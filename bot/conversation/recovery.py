"""Answering what a crash, or an outage, left unanswered.

Every `recovery_interval_s` (and at start) each replica looks for unfinished questions whose
lease ran out, claims each once in the database, and answers it (`Engine._resume`). It never
claims a question this process is answering, or keeps writes of (its answer is finished and
waits in the spool and journal for the database), and claims nothing for a lease's length
after it saw the database away (`SweepGate`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.conversation.lease import Leases
from bot.conversation.locks import KeyedLocks
from bot.conversation.messages import Incoming, Outcome, Reply
from storage.conversations import Conversations
from storage.database import DatabaseUnavailable
from storage.records import StartedTurn, ThreadRef, Unfinished

log = logging.getLogger(__name__)

ReplyFor = Callable[[Incoming], Reply]  # an adapter's reply for a question answered later
Resume = Callable[[Incoming, StartedTurn, Reply], Awaitable[Outcome]]


class SweepGate:
    """When a recovery sweep may claim questions whose lease ran out.

    While the database is away no owner can renew its leases, so when it returns every lease
    of the outage looks run out, held by a dead process or not. A replica that saw the outage
    (any of its transactions found the database away) therefore claims nothing for one lease
    length after it sees the database again: a live owner renews its leases, and stores what
    it kept (its answers' rows and marks) within that time.
    """

    def __init__(self, lease_s: float, clock: Callable[[], datetime]) -> None:
        self._lease_s, self._clock = lease_s, clock
        self._seen = 0
        self._closed_until: datetime | None = None

    def open(self, outages: int) -> bool:
        """`outages`: how many transactions have found the database away so far."""
        now = self._clock()
        if outages != self._seen:
            self._seen = outages
            self._closed_until = now + timedelta(seconds=self._lease_s)
            log.info("the database was away: questions other processes held are left to them "
                     "for %g s", self._lease_s)  # fmt: skip
        return self._closed_until is None or now >= self._closed_until


class Recovery:
    def __init__(
        self,
        conversations: Conversations,
        leases: Leases,
        locks: KeyedLocks,
        holds: Callable[[int], bool],
        resume: Resume,
        clock: Callable[[], datetime],
        *,
        lease_s: float,
        interval_s: float,
        history_limit: int,
    ) -> None:
        self._conversations, self._leases, self._locks = conversations, leases, locks
        self._holds, self._resume, self._clock = holds, resume, clock
        self._interval_s, self._history_limit = interval_s, history_limit
        self._sweeps = SweepGate(lease_s, clock)

    async def recover(self, found: Unfinished, reply_for: ReplyFor) -> Outcome:
        """Claim a question a crash left unanswered and answer it (or apologise, when it is
        older than `recovery_max_age_s`); "duplicate" when another replica claimed it first."""
        turn = await self._conversations.claim(
            found.message_id, uuid.uuid4().hex, self._leases.end(), self._clock(),
            self._history_limit,
        )  # fmt: skip
        if turn is None:
            return Outcome("duplicate")
        incoming = Incoming(
            platform=found.platform, workspace=found.workspace, channel=found.channel,
            thread=found.thread, user=found.author, text=found.text,
            event_id=f"recovered:{found.message_id}", origin=found.origin,
        )  # fmt: skip
        ref = ThreadRef(found.platform, found.workspace, found.channel, found.thread)
        async with self._locks.hold(ref.key):
            return await self._resume(incoming, turn, reply_for(incoming))

    async def recover_all(self, platform: str, reply_for: ReplyFor) -> list[Outcome]:
        """Every question on `platform` that nobody holds any more, answered or apologised for:
        never one this process answers or keeps writes for, nor any for a lease's length
        after an outage (`SweepGate`)."""
        found = await self._conversations.unfinished(platform, self._clock())
        if not self._sweeps.open(self._conversations.outages):
            return []
        lost = [q for q in found if not self._holds(q.message_id)]
        return [await self.recover(question, reply_for) for question in lost]

    async def keep_recovering(self, platform: str, reply_for: ReplyFor) -> None:
        """`recover_all` now and every `recovery_interval_s`, until cancelled."""
        while True:
            try:
                outcomes = await self.recover_all(platform, reply_for)
                if outcomes:
                    log.info("recovered %d unanswered %s question(s): %s", len(outcomes),
                             platform, ", ".join(o.status for o in outcomes))  # fmt: skip
            except DatabaseUnavailable as error:
                log.warning("recovery sweep skipped: %s", error)
            await asyncio.sleep(self._interval_s)
