"""What the knowledge base gave each question, for the support lead's view: the share answered
with sources, the most cited pages, and the questions no page covered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from storage.knowledge_records import Cited
from storage.knowledge_tables import kb_answers_t, kb_citations_t
from storage.tables import messages_t, utcnow

GAP_LIMIT = 2_000  # the newest uncovered questions grouped into gaps


@dataclass(frozen=True)
class CitedPage:
    title: str
    url: str | None
    path: str
    citations: int


@dataclass(frozen=True)
class KnowledgeUse:
    """One period of questions asked where a knowledge base was in use."""

    questions: int
    cited: int  # answered with sources
    uncovered: int  # no page covered it: answered from general knowledge
    handed_off: int  # no page covered it: handed to people
    pages: tuple[CitedPage, ...]  # the most cited first
    gaps: tuple[str, ...]  # the texts of the questions no page covered, newest first


def record_answer(
    conn: sa.Connection,
    message_id: int,
    where: tuple[str, str, str],
    confidence: float,
    outcome: str,
    cited: Sequence[Cited],
) -> None:
    """Note what one question was given (once: a repeated question keeps its first note)."""
    exists = conn.scalar(
        sa.select(kb_answers_t.c.id).where(kb_answers_t.c.message_id == message_id)
    )
    if exists is not None:
        return
    platform, workspace, channel = where
    answer_id = conn.execute(sa.insert(kb_answers_t).values(
        message_id=message_id, created_at=utcnow(), platform=platform, workspace=workspace,
        channel=channel, confidence=confidence, outcome=outcome,
    )).inserted_primary_key  # fmt: skip
    assert answer_id is not None
    if cited:
        conn.execute(sa.insert(kb_citations_t), [
            {"answer_id": answer_id[0], "title": c.title, "url": c.url, "path": c.path,
             "section": c.section}
            for c in cited
        ])  # fmt: skip


def cited_for(conn: sa.Connection, message_id: int) -> tuple[Cited, ...]:
    """The pages noted as given to the model for a question, in the order they were cited:
    the sources line of its answer, when that answer is posted again after a crash."""
    c, a = kb_citations_t.c, kb_answers_t.c
    rows = conn.execute(
        sa.select(c.title, c.section, c.url, c.path)
        .join(kb_answers_t, a.id == c.answer_id)
        .where(a.message_id == message_id)
        .order_by(c.id)
    )
    return tuple(Cited(r.title, r.section or "", r.url, r.path) for r in rows)


def knowledge_use(
    conn: sa.Connection, start: datetime, end: datetime, top: int = 10
) -> KnowledgeUse:
    a, c, m = kb_answers_t.c, kb_citations_t.c, messages_t.c
    period = (a.created_at >= start, a.created_at < end)
    grouped = sa.select(a.outcome, sa.func.count()).where(*period).group_by(a.outcome)
    outcomes: dict[str, int] = {str(o): int(n) for o, n in conn.execute(grouped)}
    count = sa.func.count().label("n")
    pages = conn.execute(
        sa.select(c.title, c.url, c.path, count)
        .join(kb_answers_t, kb_answers_t.c.id == c.answer_id)
        .where(*period)
        .group_by(c.title, c.url, c.path)
        .order_by(count.desc(), c.title)
        .limit(top)
    ).all()
    gaps = conn.execute(
        sa.select(m.text)
        .join(kb_answers_t, a.message_id == m.id)
        .where(*period, a.outcome != "cited")
        .order_by(a.created_at.desc())
        .limit(GAP_LIMIT)
    ).scalars()
    return KnowledgeUse(
        questions=sum(outcomes.values()),
        cited=outcomes.get("cited", 0),
        uncovered=outcomes.get("uncovered", 0),
        handed_off=outcomes.get("handed_off", 0),
        pages=tuple(CitedPage(t, u, p, n) for t, u, p, n in pages),
        gaps=tuple(gaps),
    )
