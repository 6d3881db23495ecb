"""Routing decisions as the ledger recorded them: the latest answer calls, and one thread's turns.

Message texts are read only when the caller asks for them (they may hold customer data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import calls_t, messages_t, threads_t


@dataclass(frozen=True)
class Decision:
    """One answer call attempt: where the router sent the question, and what it cost."""

    id: int
    created_at: datetime
    platform: str
    channel: str
    thread_id: int
    thread: str  # the platform's thread id
    message_id: int
    answer_id: int | None
    user: str
    purpose: str  # answer | judge (| shadow, ...)
    strategy: str
    tier: str | None
    score: float | None
    reasons: str
    model: str
    status: str
    error_kind: str | None
    cost_nano_usd: int | None
    cost_source: str
    latency_ms: int | None
    attempt: int
    escalation: bool
    experiment: str | None
    variant: str | None


@dataclass(frozen=True)
class ChannelRef:
    platform: str
    workspace: str
    channel: str

    @property
    def key(self) -> str:
        """"platform/workspace/channel": one query value for a filter."""
        return f"{self.platform}/{self.workspace}/{self.channel}"

    @classmethod
    def parse(cls, key: str) -> ChannelRef | None:
        parts = key.split("/", 2)
        return cls(*parts) if len(parts) == 3 and all(parts) else None


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    role: str
    author: str
    created_at: datetime
    text: str | None  # None: texts are not shown


@dataclass(frozen=True)
class ThreadTurns:
    id: int
    platform: str
    workspace: str
    channel: str
    external_id: str
    created_at: datetime
    solved_at: datetime | None
    messages: tuple[ThreadMessage, ...]
    calls: tuple[Decision, ...]  # every call of the thread, judge calls included, oldest first


_CALL_COLUMNS = ("id", "created_at", "platform", "channel", "thread_id", "message_id",
                 "answer_id", "user", "purpose", "strategy", "tier", "score", "reasons",
                 "status", "error_kind", "cost_nano_usd", "cost_source", "latency_ms", "attempt",
                 "escalation", "experiment", "variant")  # fmt: skip


def _decision_columns() -> list[sa.ColumnElement[object]]:
    c = calls_t.c
    return [
        *(c[name] for name in _CALL_COLUMNS),
        threads_t.c.external_id.label("thread"),
        sa.func.coalesce(c.model_served, c.model_asked).label("model"),
    ]


class Decisions:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def latest(
        self,
        *,
        limit: int = 50,
        channel: ChannelRef | None = None,
        tier: str | None = None,
        before_id: int | None = None,
    ) -> list[Decision]:
        """The newest answer calls first, older than call `before_id` if given.

        Walks an index backwards, never the whole ledger: the time index, or for one channel
        the (platform, workspace, channel, time) index, so a rare filter stays cheap.
        """
        c = calls_t.c
        query = (
            sa.select(*_decision_columns())
            .join(threads_t, threads_t.c.id == c.thread_id)
            .where(c.purpose == "answer")
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(limit)
        )
        if channel is not None:
            query = query.where(c.platform == channel.platform, c.workspace == channel.workspace,
                                c.channel == channel.channel)  # fmt: skip
        if tier is not None:
            query = query.where(sa.func.coalesce(c.tier, "") == tier)
        if before_id is not None:  # keyset: (time, id) below the given call's
            cursor = calls_t.alias("cursor")
            when = sa.select(cursor.c.created_at).where(cursor.c.id == before_id).scalar_subquery()
            query = query.where(
                sa.or_(c.created_at < when, sa.and_(c.created_at == when, c.id < before_id))
            )
        async with self._db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Decision(**row._mapping) for row in rows]

    async def recent_channels(self, *, calls: int = 5000) -> list[ChannelRef]:
        """The channels among the newest `calls` answer calls (an index walk, not a scan)."""
        newest = (
            sa.select(calls_t.c.platform, calls_t.c.workspace, calls_t.c.channel)
            .where(calls_t.c.purpose == "answer")
            .order_by(calls_t.c.id.desc())
            .limit(calls)
            .subquery()
        )
        async with self._db.connect() as conn:
            found = (await conn.execute(sa.select(newest).distinct())).all()
        return sorted((ChannelRef(*row) for row in found), key=lambda r: (r.channel, r.platform))

    async def thread(self, thread_id: int, *, with_texts: bool) -> ThreadTurns | None:
        """A thread's messages and calls, oldest first; texts only `with_texts`."""
        text = messages_t.c.text if with_texts else sa.null()
        async with self._db.connect() as conn:
            found = (
                await conn.execute(sa.select(threads_t).where(threads_t.c.id == thread_id))
            ).first()
            if found is None:
                return None
            messages = (
                await conn.execute(
                    sa.select(
                        messages_t.c.id,
                        messages_t.c.role,
                        messages_t.c.author,
                        messages_t.c.created_at,
                        text.label("text"),
                    )
                    .where(messages_t.c.thread_id == thread_id)
                    .order_by(messages_t.c.id)
                )
            ).all()
            calls = (
                await conn.execute(
                    sa.select(*_decision_columns())
                    .join(threads_t, threads_t.c.id == calls_t.c.thread_id)
                    .where(calls_t.c.thread_id == thread_id)
                    .order_by(calls_t.c.id)
                )
            ).all()
        return ThreadTurns(
            id=found.id,
            platform=found.platform,
            workspace=found.workspace,
            channel=found.channel,
            external_id=found.external_id,
            created_at=found.created_at,
            solved_at=found.solved_at,
            messages=tuple(ThreadMessage(**m._mapping) for m in messages),
            calls=tuple(Decision(**c._mapping) for c in calls),
        )
