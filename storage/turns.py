"""The per-message transactions (store a question, an answer, its posts) as plain functions
of a synchronous connection, so one body serves both databases: PostgreSQL runs it through
`AsyncConnection.run_sync`, SQLite in one worker-thread hop (see `TransactionRunner`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import cache

import sqlalchemy as sa

from storage import dialects, questions
from storage.knowledge_search import DOCUMENTS_IN
from storage.records import CallRecord, Question, StartedTurn, Turn
from storage.tables import (
    calls_t,
    channel_settings_t,
    messages_t,
    posts_t,
    threads_t,
    utcnow,
)

# The per-message statements are built once: building and hashing a fresh statement costs
# more than executing it on SQLite.
SELECT_THREAD = sa.select(
    threads_t.c.id,
    threads_t.c.experiment,
    threads_t.c.variant,
    threads_t.c.created_at,
    sa.select(channel_settings_t.c.tier)
    .where(
        channel_settings_t.c.platform == sa.bindparam("platform"),
        channel_settings_t.c.workspace == sa.bindparam("workspace"),
        channel_settings_t.c.channel == sa.bindparam("channel"),
    )
    .scalar_subquery()
    .label("tier"),
).where(threads_t.c.key == sa.bindparam("key"))
# The same, with how many documents the knowledge base holds for the channel: the question's
# own transaction answers "is there anything to search?" (no transaction of its own).
SELECT_THREAD_COUNTING = SELECT_THREAD.add_columns(DOCUMENTS_IN.label("documents"))
INSERT_ANSWER = sa.insert(messages_t).returning(messages_t.c.id)
INSERT_CALL = sa.insert(calls_t).returning(calls_t.c.id)
CALL_BY_KEY = sa.select(calls_t.c.id).where(calls_t.c.key == sa.bindparam("call_key"))
_CALL_FIELDS = tuple(f.name for f in fields(CallRecord))


@dataclass(frozen=True)
class _DialectStatements:
    insert_thread: sa.Insert
    insert_question: sa.Insert
    insert_post: sa.Insert


@cache
def _statements(dialect: str) -> _DialectStatements:
    return _DialectStatements(
        dialects.insert(dialect, threads_t).on_conflict_do_nothing(),
        dialects.insert(dialect, messages_t).on_conflict_do_nothing().returning(messages_t.c.id),
        dialects.insert(dialect, posts_t).on_conflict_do_nothing(),
    )


def _dialect_statements(conn: sa.Connection) -> _DialectStatements:
    return _statements("postgresql" if conn.dialect.name == "postgresql" else "sqlite")


def _call_values(record: CallRecord, answer_id: int | None) -> dict[str, object]:
    # Every field is a plain value: a shallow copy (asdict deep-copies, at ~0.1 ms a call).
    values: dict[str, object] = {name: getattr(record, name) for name in _CALL_FIELDS}
    values["created_at"] = record.created_at or utcnow()
    values["answer_id"] = answer_id
    return values


def start_turn(conn: sa.Connection, q: Question, now: datetime) -> StartedTurn | None:
    """Three statements when the thread exists: its row (with the channel's overrides and,
    given `q.collections`, the knowledge base's documents in them), the question (ON CONFLICT
    DO NOTHING RETURNING), the history.

    A repeated event id returns None (a duplicate), unless its question was never answered
    and nobody holds it any more (a crash): then this delivery takes it over (`resumed`)."""
    ref = q.ref
    where: dict[str, object] = {"key": ref.key, "platform": ref.platform,
                                "workspace": ref.workspace, "channel": ref.channel}  # fmt: skip
    select = SELECT_THREAD
    if q.collections is not None:
        select, where["collections"] = SELECT_THREAD_COUNTING, list(q.collections)
    row = conn.execute(select, where).first()
    new_thread = False
    if row is None:
        created = conn.execute(
            _dialect_statements(conn).insert_thread,
            {**asdict(ref), "key": ref.key, "created_at": utcnow()},
        )
        new_thread = bool(created.rowcount)
        row = conn.execute(select, where).one()
    message_id = conn.scalar(
        _dialect_statements(conn).insert_question,
        {"thread_id": row.id, "role": "user", "text": q.text, "author": q.author,
         "event_key": q.event_key, "created_at": now, "state": questions.RECEIVED,
         "lease_until": q.lease_until, "owner": q.owner or None, "origin": q.origin or None},
    )  # fmt: skip
    if message_id is None:
        return _redelivered(conn, q, now)
    history: list[Turn] = []
    if q.history_limit and not new_thread:
        history = recent(conn, row.id, int(message_id), q.history_limit)
    return StartedTurn(
        row.id, int(message_id), row.experiment, row.variant, tuple(history), row.tier,
        row.created_at, owner=q.owner, created_at=now,
        documents=row.documents if q.collections is not None else None,
    )  # fmt: skip


def _redelivered(conn: sa.Connection, q: Question, now: datetime) -> StartedTurn | None:
    found = conn.execute(
        sa.select(messages_t.c.id, messages_t.c.owner).where(messages_t.c.event_key == q.event_key)
    ).first()
    if found is None:
        return None
    if q.owner and found.owner == q.owner:
        # Our own insert, committed though we never heard back (the database dropped the
        # connection at commit): carry on with it.
        return questions.load_turn(
            conn, found.id, q.owner, q.history_limit, resumed=False, collections=q.collections
        )
    if q.lease_until is None:
        return None
    return questions.claim(conn, found.id, q.owner, q.lease_until, now, q.history_limit)


def recent(conn: sa.Connection, thread_id: int, before_id: int, limit: int) -> list[Turn]:
    """The newest `limit` messages before `before_id`, oldest first: one bounded query."""
    params = {"thread_id": thread_id, "before_id": before_id, "limit": limit}
    rows = conn.execute(questions.RECENT, params).all()
    return [Turn(r.role, r.text) for r in reversed(rows)]


def record_call(
    conn: sa.Connection, record: CallRecord, answer: str | None, *, retry: bool = False
) -> tuple[int, int | None]:
    """One call attempt, and the answer it produced (if any) first so the call points at it.

    `retry`: this write may have landed already (retried after a database outage): it is
    looked up by its key first, so it lands once."""
    if retry and record.key:
        found = conn.execute(
            sa.select(calls_t.c.id, calls_t.c.answer_id).where(calls_t.c.key == record.key)
        ).first()
        if found is not None:
            return int(found.id), found.answer_id
    if record.purpose == "answer" and record.message_id is not None:
        questions.settle_pending(conn, record.message_id)
    values = _call_values(record, None)
    if answer is not None:
        values["answer_id"] = conn.scalar(
            INSERT_ANSWER,
            {"thread_id": record.thread_id, "role": "assistant", "text": answer,
             "created_at": values["created_at"]},
        )  # fmt: skip
    call_id = conn.scalar(INSERT_CALL, values)
    answer_id = values["answer_id"]
    return int(call_id or 0), None if answer_id is None else int(str(answer_id))


def record_posts(
    conn: sa.Connection, platform: str, external_ids: Sequence[str], call_id: int
) -> None:
    rows = [
        {"platform": platform, "external_id": e, "call_id": call_id, "created_at": utcnow()}
        for e in dict.fromkeys(external_ids)
    ]
    conn.execute(_dialect_statements(conn).insert_post, rows)


def finish_question(
    conn: sa.Connection,
    message_id: int,
    platform: str,
    external_ids: Sequence[str],
    call_key: str | None,
    call_id: int = 0,
) -> None:
    """The reply is complete: its posts (so reactions find the call) and the final state.
    The call is found by its key unless its id is known (0: its row was kept for later)."""
    if external_ids and call_key and not call_id:
        call_id = conn.scalar(CALL_BY_KEY, {"call_key": call_key}) or 0
    if external_ids and call_id:
        record_posts(conn, platform, external_ids, int(call_id))
    questions.end(conn, message_id, questions.ANSWERED)
