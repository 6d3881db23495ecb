"""Reads and writes of the conversation record: threads, messages, call attempts, posts.

Each public method is one short transaction. Values in and out are plain dataclasses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import insert_ignore
from storage.records import (
    CallRecord,
    CallView,
    Question,
    StartedTurn,
    ThreadRef,
)
from storage.tables import (
    calls_t,
    channel_settings_t,
    messages_t,
    posts_t,
    threads_t,
    utcnow,
)
from storage.turns import record_call, record_posts, start_turn

T = TypeVar("T")


class Conversations:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite has one writer at a time; connections that find it busy poll with growing
        # sleeps (up to 100 ms each), which is where concurrent answers' latency tail came
        # from. Queued here instead, they take turns in arrival order with no sleeping.
        self._writes = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    async def _transaction(self, body: Callable[[sa.Connection], T]) -> T:
        """One short transaction; its body is plain synchronous SQLAlchemy (turns.py)."""
        if self._writes is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(body)
        async with self._writes, self.engine.begin() as conn:
            return await conn.run_sync(body)

    async def start_turn(
        self,
        ref: ThreadRef,
        *,
        text: str,
        author: str,
        event_key: str,
        history_limit: int = 0,
    ) -> StartedTurn | None:
        """Store the user's message; None when this event was already handled (dedupe).

        In the same transaction, read what routing needs: the channel's overrides (with the
        thread) and up to `history_limit` earlier messages (one bounded query).
        """
        question = Question(ref, text, author, event_key, history_limit)
        return await self._transaction(lambda conn: start_turn(conn, question))

    async def record_call(self, record: CallRecord) -> int:
        return await self._transaction(lambda conn: record_call(conn, record, None)[0])

    async def record_answered_call(self, record: CallRecord, answer: str) -> tuple[int, int]:
        """The attempt that produced the answer, and the answer itself, in one transaction:
        (call id, answer message id)."""
        call_id, answer_id = await self._transaction(lambda conn: record_call(conn, record, answer))
        return call_id, answer_id or 0

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
        async with self.engine.connect() as conn:
            found = await conn.scalar(sa.select(threads_t.c.id).where(threads_t.c.key == ref.key))
            return found is not None

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
