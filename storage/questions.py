"""A question's life after it is stored, as plain functions of a synchronous connection (like
turns.py): claim it, note the call in flight and the half-written reply, finish or fail it, and
find the ones a crash left unanswered.

Every update names the claim (`owner`) that holds the question's lease, so a replica that lost
its lease (another took the question over) can no longer change it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.knowledge_answers import cited_for
from storage.knowledge_search import DOCUMENTS_IN
from storage.records import StartedTurn, StoredAnswer, Turn, Unfinished
from storage.tables import calls_t, channel_settings_t, messages_t, threads_t

RECEIVED, ANSWERING, ANSWERED, FAILED = "received", "answering", "answered", "failed"
UNFINISHED = (RECEIVED, ANSWERING)
m = messages_t.c


# The statements of every answer are built once, with parameters: building and hashing a fresh
# statement cost more than executing it on SQLite (see turns.py).
_HELD = sa.and_(
    m.id == sa.bindparam("message_id"),
    m.owner == sa.bindparam("held_by"),
    sa.or_(m.state == RECEIVED, m.state == ANSWERING),  # an IN list is re-rendered per call
)
BEGIN_CALL = sa.update(messages_t).where(_HELD).values(
    state=ANSWERING, pending=sa.bindparam("new_pending"),
    lease_until=sa.bindparam("new_lease_until"),
)  # fmt: skip
SET_CHECKPOINT = (
    sa.update(messages_t).where(_HELD).values(checkpoint=sa.bindparam("new_checkpoint"))
)
RENEW = sa.update(messages_t).where(_HELD).values(lease_until=sa.bindparam("new_lease_until"))
SETTLE = sa.update(messages_t).where(m.id == sa.bindparam("message_id")).values(pending=None)
END = (
    sa.update(messages_t)
    .where(m.id == sa.bindparam("message_id"))
    .values(state=sa.bindparam("new_state"), lease_until=None, owner=None, pending=None,
            checkpoint=None)
)  # fmt: skip

_t = threads_t.c
LOAD_TURN = (
    sa.select(m.thread_id, m.created_at, m.checkpoint, m.pending, _t.experiment, _t.variant,
              _t.created_at.label("thread_created_at"), channel_settings_t.c.tier)
    .join(threads_t, _t.id == m.thread_id)
    .outerjoin(channel_settings_t, sa.and_(
        channel_settings_t.c.platform == _t.platform,
        channel_settings_t.c.workspace == _t.workspace,
        channel_settings_t.c.channel == _t.channel))
    .where(m.id == sa.bindparam("message_id"))
)  # fmt: skip
# The same, with the knowledge base's documents in the channel's collections (turns.py).
LOAD_TURN_COUNTING = LOAD_TURN.add_columns(DOCUMENTS_IN.label("documents"))
RECENT = (
    sa.select(m.role, m.text)
    .where(m.thread_id == sa.bindparam("thread_id"), m.id < sa.bindparam("before_id"))
    .order_by(m.id.desc())
    .limit(sa.bindparam("limit"))
)


def claim(
    conn: sa.Connection,
    message_id: int,
    owner: str,
    lease_until: datetime,
    now: datetime,
    history_limit: int,
) -> StartedTurn | None:
    """Take over an unfinished question whose lease ran out; None when it is finished or held."""
    taken = conn.execute(
        sa.update(messages_t)
        .where(m.id == message_id, m.state.in_(UNFINISHED),
               sa.or_(m.lease_until.is_(None), m.lease_until < now))
        .values(owner=owner, lease_until=lease_until)
    )  # fmt: skip
    if taken.rowcount != 1:
        return None
    return load_turn(conn, message_id, owner, history_limit, resumed=True)


def load_turn(
    conn: sa.Connection,
    message_id: int,
    owner: str,
    history_limit: int,
    *,
    resumed: bool,
    collections: tuple[str, ...] | None = None,
) -> StartedTurn:
    """The question as its thread stands now; given `collections`, with the knowledge base's
    documents in them (`StartedTurn.documents`)."""
    if collections is None:
        row = conn.execute(LOAD_TURN, {"message_id": message_id}).one()
    else:
        params = {"message_id": message_id, "collections": list(collections)}
        row = conn.execute(LOAD_TURN_COUNTING, params).one()
    history: list[Turn] = []
    if history_limit:
        params = {"thread_id": row.thread_id, "before_id": message_id, "limit": history_limit}
        rows = conn.execute(RECENT, params).all()
        history = [Turn(r.role, r.text) for r in reversed(rows)]
    return StartedTurn(
        row.thread_id, message_id, row.experiment, row.variant, tuple(history), row.tier,
        row.thread_created_at, owner=owner, created_at=row.created_at, resumed=resumed,
        checkpoint=row.checkpoint or "", pending=row.pending,
        documents=None if collections is None else row.documents,
    )  # fmt: skip


def begin_call(
    conn: sa.Connection, message_id: int, owner: str, pending: str, lease_until: datetime
) -> None:
    """A provider request is about to be made: if we crash, recovery puts it on the ledger."""
    conn.execute(BEGIN_CALL, {"message_id": message_id, "held_by": owner,
                              "new_pending": pending, "new_lease_until": lease_until})  # fmt: skip


def set_checkpoint(conn: sa.Connection, message_id: int, owner: str, checkpoint: str) -> None:
    conn.execute(SET_CHECKPOINT, {"message_id": message_id, "held_by": owner,
                                  "new_checkpoint": checkpoint})  # fmt: skip


def renew(conn: sa.Connection, message_id: int, owner: str, lease_until: datetime) -> bool:
    done = conn.execute(RENEW, {"message_id": message_id, "held_by": owner,
                                "new_lease_until": lease_until})  # fmt: skip
    return done.rowcount == 1


def settle_pending(conn: sa.Connection, message_id: int) -> None:
    conn.execute(SETTLE, {"message_id": message_id})


def fail(conn: sa.Connection, message_id: int, *, only_unfinished: bool = False) -> None:
    """`only_unfinished`: a late "failed" (replayed after an outage) never overrides an answer
    that landed meanwhile."""
    if only_unfinished:
        conn.execute(
            sa.update(messages_t)
            .where(m.id == message_id, m.state.in_(UNFINISHED))
            .values(state=FAILED, lease_until=None, owner=None, pending=None, checkpoint=None)
        )
        return
    end(conn, message_id, FAILED)


def end(conn: sa.Connection, message_id: int, state: str) -> None:
    conn.execute(END, {"message_id": message_id, "new_state": state})


def unfinished(conn: sa.Connection, platform: str, now: datetime, limit: int) -> list[Unfinished]:
    """Questions on `platform` nobody holds any more (their lease ran out), oldest first."""
    t = threads_t.c
    rows = conn.execute(
        sa.select(m.id, t.platform, t.workspace, t.channel, t.external_id, m.author, m.text,
                  m.origin, m.created_at)
        .join(threads_t, t.id == m.thread_id)
        .where(m.state.in_(UNFINISHED), t.platform == platform,
               sa.or_(m.lease_until.is_(None), m.lease_until < now))
        .order_by(m.id)
        .limit(limit)
    ).all()  # fmt: skip
    return [
        Unfinished(
            r.id,
            r.platform,
            r.workspace,
            r.channel,
            r.external_id,
            r.author,
            r.text,
            r.origin or "",
            r.created_at,
        )
        for r in rows
    ]


def stored_answer(conn: sa.Connection, message_id: int) -> StoredAnswer | None:
    c = calls_t.c
    row = conn.execute(
        sa.select(c.id, c.key, c.model_served, c.model_asked, c.tier, c.strategy,
                  c.cost_nano_usd, c.cost_source, c.input_tokens, c.output_tokens,
                  c.latency_ms, c.answer_id, m.text)
        .join(messages_t, m.id == c.answer_id)
        .where(c.message_id == message_id, c.purpose == "answer", c.answer_id.is_not(None))
        .order_by(c.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    if row is None:
        return None
    return StoredAnswer(
        row.id, row.key or "", row.text, row.model_served or row.model_asked, row.tier,
        row.strategy, row.cost_nano_usd, row.cost_source, row.input_tokens, row.output_tokens,
        row.latency_ms, int(row.answer_id), cited_for(conn, message_id),
    )  # fmt: skip
