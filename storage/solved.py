"""Solved threads proposed as knowledge entries: a thread's messages to find its question and
answer in, one pending proposal per thread, and the admins' decisions, kept so that an answer
once approved or rejected is never proposed again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import run_transaction
from storage.knowledge_tables import kb_proposals_t
from storage.records import ThreadRef
from storage.tables import calls_t, messages_t, threads_t, utcnow

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
THREAD_MESSAGES = 200  # the newest messages of a thread read to find its question and answer


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    role: str  # user (anyone who wrote in the thread) | assistant (the bot)
    author: str
    text: str


@dataclass(frozen=True)
class Draft:
    """What a solved thread proposes: its question and the reply that solved it."""

    thread_id: int
    answer_id: int  # the reply's message
    question: str
    answer: str
    answered_by: str  # the person who replied; "" when the bot's answer solved it
    url: str | None  # the thread on its platform
    solved_by: str


@dataclass(frozen=True)
class Proposal:
    id: int
    thread: ThreadRef
    answer_id: int
    status: str  # pending | approved | rejected
    question: str
    answer: str
    answered_by: str  # "" for the bot
    url: str | None
    solved_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.status == PENDING


class Proposals:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def thread(self, ref: ThreadRef) -> tuple[int, tuple[ThreadMessage, ...]] | None:
        """The thread's id and its newest messages, oldest first; None when it is unknown."""

        def body(conn: sa.Connection) -> tuple[int, tuple[ThreadMessage, ...]] | None:
            thread_id = conn.scalar(sa.select(threads_t.c.id).where(threads_t.c.key == ref.key))
            if thread_id is None:
                return None
            m = messages_t.c
            rows = conn.execute(
                sa.select(m.id, m.role, m.author, m.text)
                .where(m.thread_id == thread_id)
                .order_by(m.id.desc())
                .limit(THREAD_MESSAGES)
            ).all()
            found = tuple(ThreadMessage(r.id, r.role, r.author, r.text) for r in reversed(rows))
            return int(thread_id), found

        return await run_transaction(self.db, body)

    async def answer_of(self, call_id: int) -> tuple[int, int] | None:
        """The message the call `call_id` answered and the one holding its answer (None:
        no answer stored)."""

        def body(conn: sa.Connection) -> tuple[int, int] | None:
            row = conn.execute(
                sa.select(calls_t.c.message_id, calls_t.c.answer_id).where(calls_t.c.id == call_id)
            ).first()
            if row is None or row.message_id is None or row.answer_id is None:
                return None
            return int(row.message_id), int(row.answer_id)

        return await run_transaction(self.db, body)

    async def propose(self, draft: Draft) -> Proposal | None:
        """Propose `draft`; it replaces the thread's pending proposal, if any. None when this
        answer of this thread was proposed before: it waits already, or was decided."""

        def body(conn: sa.Connection) -> Proposal | None:
            p = kb_proposals_t.c
            seen = conn.scalar(
                sa.select(p.id).where(
                    p.thread_id == draft.thread_id, p.answer_id == draft.answer_id
                )
            )
            if seen is not None:
                return None
            values: dict[str, Any] = {
                "answer_id": draft.answer_id, "status": PENDING, "question": draft.question,
                "answer": draft.answer, "answered_by": draft.answered_by, "url": draft.url,
                "solved_by": draft.solved_by, "created_at": utcnow(),
            }  # fmt: skip
            waiting = conn.scalar(
                sa.select(p.id).where(p.thread_id == draft.thread_id, p.status == PENDING)
            )
            if waiting is None:
                inserted = conn.execute(
                    sa.insert(kb_proposals_t).values(thread_id=draft.thread_id, **values)
                ).inserted_primary_key
                assert inserted is not None
                waiting = inserted[0]
            else:
                conn.execute(sa.update(kb_proposals_t).where(p.id == waiting).values(**values))
            return _read(conn, p.id == waiting)[0]

        return await run_transaction(self.db, body)

    async def pending(self) -> list[Proposal]:
        """The proposals waiting for an admin, oldest first."""
        status = kb_proposals_t.c.status
        return await run_transaction(self.db, lambda conn: _read(conn, status == PENDING))

    async def get(self, proposal_id: int) -> Proposal | None:
        found = await run_transaction(
            self.db, lambda conn: _read(conn, kb_proposals_t.c.id == proposal_id)
        )
        return found[0] if found else None

    async def decide(self, proposal_id: int, status: str, by: str) -> Proposal | None:
        """Approve or reject a pending proposal; None when it is not pending (unknown, or
        decided meanwhile: of two admins clicking at once, one decides)."""

        def body(conn: sa.Connection) -> Proposal | None:
            p = kb_proposals_t.c
            done = conn.execute(
                sa.update(kb_proposals_t)
                .where(p.id == proposal_id, p.status == PENDING)
                .values(status=status, decided_by=by, decided_at=utcnow())
            )
            return _read(conn, p.id == proposal_id)[0] if done.rowcount else None

        return await run_transaction(self.db, body)

    async def reopen(self, proposal_id: int) -> None:
        """Back to pending (its approval could not be added to the knowledge base)."""
        await run_transaction(self.db, lambda conn: conn.execute(
            sa.update(kb_proposals_t).where(kb_proposals_t.c.id == proposal_id)
            .values(status=PENDING, decided_by=None, decided_at=None)
        ))  # fmt: skip


def _read(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Proposal]:
    p, t = kb_proposals_t.c, threads_t.c
    rows = conn.execute(
        sa.select(kb_proposals_t, t.platform, t.workspace, t.channel, t.external_id)
        .join(threads_t, t.id == p.thread_id)
        .where(where)
        .order_by(p.id)
    ).all()
    return [
        Proposal(
            r.id, ThreadRef(r.platform, r.workspace, r.channel, r.external_id), r.answer_id,
            r.status, r.question, r.answer, r.answered_by, r.url, r.solved_by, r.created_at,
            r.decided_by, r.decided_at,
        )
        for r in rows
    ]  # fmt: skip
