"""Reads and writes of the conversation record: threads, messages, call attempts, posts.

Each public method is one short transaction. Values in and out are plain dataclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import insert_ignore
from storage.tables import Call, ChannelSetting, Message, Post, Thread, utcnow

threads_t = Thread.__table__  # type: ignore[attr-defined]
messages_t = Message.__table__  # type: ignore[attr-defined]
calls_t = Call.__table__  # type: ignore[attr-defined]
posts_t = Post.__table__  # type: ignore[attr-defined]
channel_settings_t = ChannelSetting.__table__  # type: ignore[attr-defined]


def digest(*parts: str) -> str:
    """A fixed-length key for ids of any length (a 10 KB thread id still fits an index)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True)
class ThreadRef:
    platform: str
    workspace: str
    channel: str
    external_id: str

    @property
    def key(self) -> str:
        return digest(self.platform, self.workspace, self.channel, self.external_id)


@dataclass(frozen=True)
class Turn:
    role: str
    text: str


@dataclass(frozen=True)
class StartedTurn:
    thread_id: int
    message_id: int
    experiment: str | None
    variant: str | None
    history: tuple[Turn, ...] = ()  # the newest earlier messages, oldest first
    channel_tier: str | None = None  # the channel's overrides (channel_settings)
    channel_strategy: str | None = None


@dataclass(frozen=True)
class CallRecord:
    thread_id: int
    message_id: int
    platform: str
    workspace: str
    channel: str
    user: str
    strategy: str
    model_asked: str
    cost_source: str
    status: str
    attempt: int
    purpose: str = "answer"
    tier: str | None = None
    score: float | None = None
    reasons: str = ""
    model_served: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_nano_usd: int | None = None
    baseline_cost_nano_usd: int | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    decision_us: int | None = None
    error_kind: str | None = None
    error: str | None = None
    escalation: bool = False
    experiment: str | None = None
    variant: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class CallView:
    """The parts of a stored call that adapters and escalation need."""

    id: int
    thread_id: int
    message_id: int
    tier: str | None
    platform: str
    workspace: str
    channel: str
    thread_external_id: str


class Conversations:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

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
        thread) and up to `history_limit` earlier messages (one bounded query). Every statement
        is a thread hop for aiosqlite, so this is one connection and three statements in the
        common case (thread exists), and the dedupe is ON CONFLICT DO NOTHING RETURNING.
        """
        where = {"key": ref.key, "platform": ref.platform, "workspace": ref.workspace,
                 "channel": ref.channel}  # fmt: skip
        async with self.engine.begin() as conn:
            row = (await conn.execute(SELECT_THREAD, where)).first()
            new_thread = False
            if row is None:
                new_thread = await insert_ignore(
                    conn, threads_t, {**asdict(ref), "key": ref.key, "created_at": utcnow()}
                )
                row = (await conn.execute(SELECT_THREAD, where)).one()
            message_id = await conn.scalar(
                _dialect_statements(conn).insert_question,
                {"thread_id": row.id, "role": "user", "text": text, "author": author,
                 "event_key": event_key, "created_at": utcnow()},
            )  # fmt: skip
            if message_id is None:
                return None
            history: list[Turn] = []
            if history_limit and not new_thread:
                history = await _recent(conn, row.id, int(message_id), history_limit)
            return StartedTurn(
                row.id,
                int(message_id),
                row.experiment,
                row.variant,
                tuple(history),
                row.tier,
                row.strategy,
            )

    async def is_duplicate(self, event_key: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                sa.select(messages_t.c.id).where(messages_t.c.event_key == event_key)
            )
            return found is not None

    async def recent_turns(self, thread_id: int, *, before_id: int, limit: int) -> list[Turn]:
        """The newest `limit` messages before `before_id`, oldest first: one bounded query."""
        async with self.engine.connect() as conn:
            return await _recent(conn, thread_id, before_id, limit)

    async def record_call(self, record: CallRecord) -> int:
        async with self.engine.begin() as conn:
            return int(await conn.scalar(INSERT_CALL, _call_values(record, None)) or 0)

    async def record_answered_call(self, record: CallRecord, answer: str) -> tuple[int, int]:
        """The attempt that produced the answer, and the answer itself, in one transaction:
        (call id, answer message id)."""
        values = _call_values(record, None)
        async with self.engine.begin() as conn:
            answer_id = await conn.scalar(
                INSERT_ANSWER,
                {"thread_id": record.thread_id, "role": "assistant", "text": answer,
                 "created_at": values["created_at"]},
            )  # fmt: skip
            values["answer_id"] = answer_id
            call_id = await conn.scalar(INSERT_CALL, values)
        return int(call_id or 0), int(answer_id or 0)

    async def record_answer(self, thread_id: int, text: str, call_id: int) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.insert(messages_t).values(
                    thread_id=thread_id, role="assistant", text=text, created_at=utcnow()
                )
            )
            answer_id = int((result.inserted_primary_key or (0,))[0])
            await conn.execute(
                sa.update(calls_t).where(calls_t.c.id == call_id).values(answer_id=answer_id)
            )
            return answer_id

    async def record_posts(self, platform: str, external_ids: Sequence[str], call_id: int) -> None:
        if not external_ids:
            return
        rows = [
            {"platform": platform, "external_id": e, "call_id": call_id, "created_at": utcnow()}
            for e in dict.fromkeys(external_ids)
        ]
        async with self.engine.begin() as conn:
            await conn.execute(_dialect_statements(conn).insert_post, rows)

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

    async def channel_setting(
        self, platform: str, workspace: str, channel: str
    ) -> tuple[str | None, str | None]:
        """(tier, strategy) overrides for a channel; (None, None) when none are set."""
        async with self.engine.connect() as conn:
            query = _channel_query(ThreadRef(platform, workspace, channel, ""))
            row = (await conn.execute(query)).first()
        return (row.tier, row.strategy) if row else (None, None)

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


# The per-message statements are built once: building and hashing a fresh statement costs
# more than executing it on SQLite.
SELECT_THREAD = sa.select(
    threads_t.c.id,
    threads_t.c.experiment,
    threads_t.c.variant,
    *(
        sa.select(channel_settings_t.c[column])
        .where(
            channel_settings_t.c.platform == sa.bindparam("platform"),
            channel_settings_t.c.workspace == sa.bindparam("workspace"),
            channel_settings_t.c.channel == sa.bindparam("channel"),
        )
        .scalar_subquery()
        .label(column)
        for column in ("tier", "strategy")
    ),
).where(threads_t.c.key == sa.bindparam("key"))
SELECT_RECENT = (
    sa.select(messages_t.c.role, messages_t.c.text)
    .where(messages_t.c.thread_id == sa.bindparam("thread_id"),
           messages_t.c.id < sa.bindparam("before_id"))
    .order_by(messages_t.c.id.desc())
    .limit(sa.bindparam("limit"))
)  # fmt: skip
INSERT_ANSWER = sa.insert(messages_t).returning(messages_t.c.id)
INSERT_CALL = sa.insert(calls_t).returning(calls_t.c.id)


@dataclass(frozen=True)
class _DialectStatements:
    insert_question: sa.Insert
    insert_post: sa.Insert


_STATEMENTS = {
    name: _DialectStatements(
        insert(messages_t).on_conflict_do_nothing().returning(messages_t.c.id),
        insert(posts_t).on_conflict_do_nothing(),
    )
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def _dialect_statements(conn: AsyncConnection) -> _DialectStatements:
    return _STATEMENTS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]


def _call_values(record: CallRecord, answer_id: int | None) -> dict[str, object]:
    values: dict[str, object] = asdict(record)
    values["created_at"] = record.created_at or utcnow()
    values["answer_id"] = answer_id
    return values


async def _recent(conn: AsyncConnection, thread_id: int, before_id: int, limit: int) -> list[Turn]:
    params = {"thread_id": thread_id, "before_id": before_id, "limit": limit}
    rows = (await conn.execute(SELECT_RECENT, params)).all()
    return [Turn(r.role, r.text) for r in reversed(rows)]


def _channel_query(ref: ThreadRef) -> sa.Select[tuple[str | None, str | None]]:
    return sa.select(channel_settings_t.c.tier, channel_settings_t.c.strategy).where(
        channel_settings_t.c.platform == ref.platform,
        channel_settings_t.c.workspace == ref.workspace,
        channel_settings_t.c.channel == ref.channel,
    )
