"""Storing a question: the first thing done with every message.

An adapter whose platform redelivers what it was not acknowledged (Slack) calls `Engine.take`
before it acknowledges: the question is then stored, or the platform is told to deliver it
again. Other adapters let `Engine.handle` store it under the thread's lock.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.conversation.lease import Leases
from bot.conversation.messages import Incoming
from bot.conversation.patience import patiently
from bot.conversation.prompt import Question, parse_question
from bot.conversation.text import clean_text, has_visible_text
from storage.conversations import Conversations
from storage.database import DatabaseUnavailable
from storage.records import StartedTurn, ThreadRef, digest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    """A message as `Intake.take` left it: stored (`turn`), seen before (`duplicate`), or not
    stored yet (the database is slow or down: `Engine.handle` goes on storing it)."""

    incoming: Incoming
    question: Question | None  # None: no visible text, nothing to store
    owner: str  # the claim its lease is held under
    arrived: float  # time.monotonic() when it arrived: the database waits count from here
    turn: StartedTurn | None = None
    duplicate: bool = False

    @property
    def settled(self) -> bool:
        """Nothing left to store: stored, a duplicate, or nothing to store at all."""
        return self.turn is not None or self.duplicate or self.question is None


class Intake:
    def __init__(
        self,
        conversations: Conversations,
        leases: Leases,
        *,
        max_question_tokens: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._conversations = conversations
        self._leases = leases
        self._max_question_tokens = max_question_tokens
        self._clock = clock

    def receive(self, incoming: Incoming) -> Taken:
        """The message read, nothing stored yet."""
        question = parse_question(clean_text(incoming.text), self._max_question_tokens)
        visible = question if has_visible_text(question.text) else None
        return Taken(incoming, visible, uuid.uuid4().hex, time.monotonic())

    async def take(self, incoming: Incoming, wait_s: float) -> Taken:
        """Store the question within `wait_s`; when the database does not take it in time,
        `turn` is None (and `Engine.handle` keeps trying)."""
        taken = self.receive(incoming)
        if taken.question is None:
            return taken
        try:
            turn = await patiently(lambda: self.store(taken, 0), give_up_at=taken.arrived + wait_s)
        except DatabaseUnavailable as error:
            log.warning("question %s not stored within %g s: %s", incoming.event_id[:80],
                        wait_s, error)  # fmt: skip
            return taken
        return replace(taken, turn=turn, duplicate=turn is None)

    async def store(
        self, taken: Taken, history_limit: int, collections: tuple[str, ...] | None = None
    ) -> StartedTurn | None:
        """One try; None when the event was handled already (or is held by someone else).
        `collections`: the knowledge base's documents in them are counted with it."""
        i, question = taken.incoming, taken.question
        assert question is not None
        return await self._conversations.start_turn(
            ThreadRef(i.platform, i.workspace, i.channel, i.thread),
            text=question.text,
            author=i.user,
            event_key=digest(i.platform, i.workspace, i.event_id),
            history_limit=history_limit,
            owner=taken.owner,
            lease_until=self._leases.end(),
            origin=i.origin,
            now=self._clock(),
            collections=collections,
        )
