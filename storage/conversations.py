"""Reads and writes of the conversation record: threads, messages, call attempts, posts.

Each public method is one short transaction. Values in and out are plain dataclasses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import questions, writes
from storage.database import DEFAULT_DEADLINE_S, DatabaseUnavailable, Transactions, insert_ignore
from storage.journal import Journal
from storage.records import (
    CallRecord,
    CallView,
    Question,
    StartedTurn,
    StoredAnswer,
    ThreadRef,
    Unfinished,
)
from storage.spool import WriteSpool
from storage.tables import (
    calls_t,
    channel_settings_t,
    messages_t,
    posts_t,
    threads_t,
    utcnow,
)
from storage.turns import record_posts, start_turn

T = TypeVar("T")
log = logging.getLogger(__name__)


class Conversations:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        wait_s: float = DEFAULT_DEADLINE_S,
        journal: Journal | None = None,
    ) -> None:
        self.engine = engine
        # On a SQLite file every transaction here runs whole in one thread, in arrival order:
        # no thread hop per statement, and no polling SQLite's busy handler (sleeps up to
        # 100 ms each) between the answers' own writes. Each has a deadline (`wait_s`).
        self._transactions = Transactions(engine, wait_s)
        # What an outage keeps from the database: on disk too when there is a `journal`.
        self.spool = WriteSpool(self._transactions, journal)

    @property
    def outages(self) -> int:
        """How many transactions found the database away (refused, dropped, stalled)."""
        return self._transactions.outages

    async def close(self) -> None:
        await self.spool.close()
        await self._transactions.close()

    async def _transaction(self, body: Callable[[sa.Connection], T]) -> T:
        """One short transaction; its body is plain synchronous SQLAlchemy (turns.py). An
        outage raises `DatabaseUnavailable`."""
        return await self._transactions.run(body)

    async def start_turn(
        self,
        ref: ThreadRef,
        *,
        text: str,
        author: str,
        event_key: str,
        history_limit: int = 0,
        owner: str = "",
        lease_until: datetime | None = None,
        origin: str = "",
        now: datetime | None = None,
        collections: tuple[str, ...] | None = None,
    ) -> StartedTurn | None:
        """Store the user's message; None when this event was already handled (dedupe), or
        is being answered by someone holding its lease. An unfinished question whose lease
        ran out is taken over instead (`resumed`).

        In the same transaction, read what routing needs: the channel's overrides (with the
        thread), up to `history_limit` earlier messages (one bounded query) and, given
        `collections`, how many documents the knowledge base holds in them.
        """
        question = Question(ref, text, author, event_key, history_limit, owner, lease_until,
                            origin, collections)  # fmt: skip
        at = now or utcnow()
        return await self._transaction(lambda conn: start_turn(conn, question, at))

    async def record_call(self, record: CallRecord) -> int:
        """The call row's id; 0 when the database is down (the row is kept, stored later)."""
        found = await self.spool.write(writes.call(record, None))
        return 0 if found is None else int(found[0])

    async def record_answered_call(self, record: CallRecord, answer: str) -> tuple[int, int]:
        """The attempt that produced the answer, and the answer itself, in one transaction:
        (call id, answer message id), (0, 0) when kept for later during an outage."""
        found = await self.spool.write(writes.call(record, answer))
        if found is None:
            return 0, 0
        return found[0], found[1] or 0

    # --- a question's life (storage/questions.py) --------------------------------------------

    async def claim(
        self, message_id: int, owner: str, lease_until: datetime, now: datetime, history: int
    ) -> StartedTurn | None:
        return await self._transaction(
            lambda conn: questions.claim(conn, message_id, owner, lease_until, now, history)
        )

    async def unfinished(self, platform: str, now: datetime, limit: int = 50) -> list[Unfinished]:
        return await self._transaction(
            lambda conn: questions.unfinished(conn, platform, now, limit)
        )

    async def stored_answer(self, message_id: int) -> StoredAnswer | None:
        return await self._transaction(lambda conn: questions.stored_answer(conn, message_id))

    async def begin_call(
        self, message_id: int, owner: str, pending: str, lease_until: datetime
    ) -> None:
        await self.spool.write(writes.begin(message_id, owner, pending, lease_until))

    async def set_checkpoint(self, message_id: int, owner: str, checkpoint: str) -> None:
        """Note the half-written message (the answerer does it in the background: it only
        matters after a crash). A write that arrives after the question finished changes
        nothing (it names an unfinished question)."""
        await self.spool.write(writes.checkpoint(message_id, owner, checkpoint))

    async def renew(self, message_id: int, owner: str, lease_until: datetime) -> bool:
        """Extend our lease; False when we lost it or the database is down."""
        try:
            return await self._transaction(
                lambda conn: questions.renew(conn, message_id, owner, lease_until)
            )
        except DatabaseUnavailable:
            return False

    async def finish_question(
        self,
        message_id: int,
        platform: str,
        external_ids: Sequence[str],
        call_key: str | None,
        call_id: int = 0,
    ) -> None:
        """The reply is posted: its posts point at the call (`call_id`, or the call found by
        its key when the id is 0), and the question is answered."""
        write = writes.finish(message_id, platform, external_ids, call_key, call_id)
        await self.spool.write(write)

    async def fail_question(self, message_id: int) -> None:
        await self.spool.write(writes.fail(message_id))

    async def record_posts(self, platform: str, external_ids: Sequence[str], call_id: int) -> None:
        if external_ids:
            await self._transaction(
                lambda conn: record_posts(conn, platform, external_ids, call_id)
            )

    async def call_for_post(self, platform: str, external_id: str) -> int | None:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                sa.select(posts_t.c.call_id).where(
                    posts_t.c.platform == platform, posts_t.c.external_id == external_id
                )
            )
            return None if value is None else int(value)

    async def call(self, call_id: int) -> CallView | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        calls_t.c.id,
                        calls_t.c.thread_id,
                        calls_t.c.message_id,
                        calls_t.c.tier,
                        threads_t.c.platform,
                        threads_t.c.workspace,
                        threads_t.c.channel,
                        threads_t.c.external_id,
                    )
                    .join(threads_t, threads_t.c.id == calls_t.c.thread_id)
                    .where(calls_t.c.id == call_id)
                )
            ).first()
        if row is None:
            return None
        return CallView(
            row.id, row.thread_id, row.message_id, row.tier,
            row.platform, row.workspace, row.channel, row.external_id,
        )  # fmt: skip

    async def message_text(self, message_id: int) -> str | None:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                sa.select(messages_t.c.text).where(messages_t.c.id == message_id)
            )
            return None if value is None else str(value)

    async def thread_exists(self, ref: ThreadRef) -> bool:
        found = await self._transaction(
            lambda conn: conn.scalar(sa.select(threads_t.c.id).where(threads_t.c.key == ref.key))
        )
        return found is not None

    async def reload_turn(
        self, turn: StartedTurn, history_limit: int, collections: tuple[str, ...] | None = None
    ) -> StartedTurn:
        """`turn` as the thread stands now: its history, variant and channel tier (a question
        stored before an earlier one of its thread was answered reads them again), and the
        documents in `collections` as `start_turn` reads them."""
        message_id, owner, again = turn.message_id, turn.owner, turn.resumed
        return await self._transaction(
            lambda conn: questions.load_turn(conn, message_id, owner, history_limit,
                                             resumed=again, collections=collections)
        )  # fmt: skip

    async def set_thread_variant(self, thread_id: int, experiment: str, variant: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.update(threads_t)
                .where(threads_t.c.id == thread_id, threads_t.c.variant.is_(None))
                .values(experiment=experiment, variant=variant)
            )

    async def set_channel_tier(
        self, platform: str, workspace: str, channel: str, tier: str | None, by: str
    ) -> None:
        where = (
            channel_settings_t.c.platform == platform,
            channel_settings_t.c.workspace == workspace,
            channel_settings_t.c.channel == channel,
        )
        async with self.engine.begin() as conn:
            inserted = await insert_ignore(
                conn,
                channel_settings_t,
                {
                    "platform": platform,
                    "workspace": workspace,
                    "channel": channel,
                    "tier": tier,
                    "updated_by": by,
                    "updated_at": utcnow(),
                },
            )
            if not inserted:
                await conn.execute(
                    sa.update(channel_settings_t)
                    .where(*where)
                    .values(tier=tier, updated_by=by, updated_at=utcnow())
                )
