"""What the router learns from, and the versions it learned: shadow comparisons, user signals
read back as labels, and tuned router versions with the one that is active."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import insert_ignore
from storage.knowledge_tables import kb_answers_t
from storage.tables import (
    calls_t,
    feedback_t,
    messages_t,
    router_versions_t,
    shadow_comparisons_t,
    threads_t,
    utcnow,
)


@dataclass(frozen=True)
class Comparison:
    """One shadow comparison: the same question answered by two tiers and judged."""

    call_id: int
    thread_id: int
    message_id: int
    question: str
    context: tuple[str, ...]
    answered_tier: str
    shadow_tier: str
    shadow_model: str
    shadow_call_id: int | None
    judge_call_id: int | None
    answered_score: int | None
    shadow_score: int | None
    answered_cost_nano_usd: int | None
    shadow_cost_nano_usd: int | None
    router_version: int | None
    router_score: float | None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Signal:
    """A user's verdict on one answer: kind is escalation | thumbs_up | thumbs_down | solved."""

    kind: str
    question: str
    message_id: int
    thread_id: int
    tier: str | None
    router_score: float | None
    created_at: datetime


@dataclass(frozen=True)
class VersionRow:
    id: int
    base: str
    model: str | None
    metrics: str
    data: str
    adopted: bool
    reason: str
    activated_at: datetime | None
    created_at: datetime


class LearningData:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    # --- shadow comparisons -------------------------------------------------------------

    async def record_comparison(self, comparison: Comparison) -> bool:
        """Store a comparison (once per answer: a replay or a retry stores nothing more)."""
        values = asdict(comparison)
        values["context"] = json.dumps(list(comparison.context), ensure_ascii=False)
        values["created_at"] = comparison.created_at or utcnow()
        async with self._db.begin() as conn:
            return await insert_ignore(conn, shadow_comparisons_t, values)

    async def comparisons(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Comparison]:
        # In the order the questions came, not the order the background comparisons finished:
        # the same stored labels then always tune the same way.
        t = shadow_comparisons_t
        query = sa.select(t).order_by(t.c.message_id, t.c.id)
        if since is not None:
            query = query.where(shadow_comparisons_t.c.created_at >= since)
        if until is not None:
            query = query.where(shadow_comparisons_t.c.created_at < until)
        async with self._db.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        fields = set(Comparison.__dataclass_fields__) - {"id"}
        return [
            Comparison(
                **{**{k: row[k] for k in fields}, "context": tuple(json.loads(row["context"]))}
            )
            for row in rows
        ]

    # --- user signals, read back as labels ------------------------------------------------

    async def signals(self, since: datetime | None = None) -> list[Signal]:
        """Escalations, thumbs and solved threads on answers, each with its question.

        An escalation's own call is one tier up; the label is about the answer it replaced
        (`calls.escalated_from`), whose tier and score it carries.
        """
        question = messages_t.alias("question")
        answer = (calls_t.c.purpose == "answer",)
        first = (*answer, calls_t.c.attempt == 1, calls_t.c.escalation.is_(False))

        def newer(column: sa.ColumnElement[datetime]) -> list[sa.ColumnElement[bool]]:
            return [] if since is None else [column >= since]

        columns = (question.c.text, calls_t.c.message_id, calls_t.c.thread_id, calls_t.c.tier,
                   calls_t.c.score)  # fmt: skip
        escalated = sa.select(calls_t.c.escalated_from).where(
            *answer, calls_t.c.escalated_from.is_not(None), *newer(calls_t.c.created_at)
        )
        queries = [
            sa.select(*columns, sa.literal("escalation").label("kind"),
                      calls_t.c.created_at.label("at"))
            .join(question, question.c.id == calls_t.c.message_id)
            .where(calls_t.c.id.in_(escalated)),
            sa.select(*columns,
                      sa.case((feedback_t.c.value > 0, "thumbs_up"), else_="thumbs_down")
                      .label("kind"), feedback_t.c.updated_at.label("at"))
            .join(question, question.c.id == calls_t.c.message_id)
            .join(feedback_t, feedback_t.c.call_id == calls_t.c.id)
            .where(*answer, *newer(feedback_t.c.updated_at)),
            sa.select(*columns, sa.literal("solved").label("kind"),
                      threads_t.c.solved_at.label("at"))
            .join(question, question.c.id == calls_t.c.message_id)
            .join(threads_t, threads_t.c.id == calls_t.c.thread_id)
            .where(*first, calls_t.c.status == "ok", threads_t.c.solved_at.is_not(None),
                   *newer(threads_t.c.solved_at)),
        ]  # fmt: skip
        async with self._db.connect() as conn:
            rows = [row for query in queries for row in (await conn.execute(query)).all()]
        return [
            Signal(r.kind, r.text, r.message_id, r.thread_id, r.tier, r.score, r.at) for r in rows
        ]

    async def earlier_questions(self, thread_id: int, before: int, limit: int = 6) -> list[str]:
        query = (
            sa.select(messages_t.c.text)
            .where(
                messages_t.c.thread_id == thread_id,
                messages_t.c.id < before,
                messages_t.c.role == "user",
            )
            .order_by(messages_t.c.id.desc())
            .limit(limit)
        )
        async with self._db.connect() as conn:
            found = (await conn.execute(query)).scalars().all()
        return list(reversed(found))

    async def retrievals(self, message_ids: list[int]) -> dict[int, float]:
        """The knowledge base's confidence for each question that was searched (kb_answers,
        noted before the question was routed); questions never searched are left out."""
        found: dict[int, float] = {}
        unique = sorted(set(message_ids))
        async with self._db.connect() as conn:
            for start in range(0, len(unique), 500):  # bounded IN lists
                chunk = unique[start : start + 500]
                query = sa.select(kb_answers_t.c.message_id, kb_answers_t.c.confidence).where(
                    kb_answers_t.c.message_id.in_(chunk)
                )
                found.update((int(m), float(c)) for m, c in (await conn.execute(query)).all())
        return found

    # --- router versions -------------------------------------------------------------------

    async def add_version(
        self, *, base: str, model: str | None, metrics: str, data: str, adopted: bool,
        reason: str, activate: bool,
    ) -> int:  # fmt: skip
        now = utcnow()
        async with self._db.begin() as conn:
            new_id = await conn.scalar(
                sa.insert(router_versions_t).values(
                    base=base, model=model, metrics=metrics, data=data, adopted=adopted,
                    reason=reason, activated_at=now if activate else None, created_at=now,
                ).returning(router_versions_t.c.id)
            )  # fmt: skip
        return int(new_id or 0)

    async def activate(self, version: int) -> bool:
        """Make `version` the active one (also a rollback to an older one); False if unknown."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(router_versions_t)
                .where(router_versions_t.c.id == version, router_versions_t.c.model.is_not(None))
                .values(activated_at=utcnow())
            )
        return bool(result.rowcount)

    async def deactivate_all(self) -> None:
        """Back to the shipped analyzer: no version is active."""
        async with self._db.begin() as conn:
            await conn.execute(sa.update(router_versions_t).values(activated_at=None))

    async def active(self) -> VersionRow | None:
        query = (
            sa.select(router_versions_t)
            .where(router_versions_t.c.activated_at.is_not(None))
            .order_by(router_versions_t.c.activated_at.desc(), router_versions_t.c.id.desc())
            .limit(1)
        )
        return await self._one(query)

    async def version(self, version: int) -> VersionRow | None:
        return await self._one(
            sa.select(router_versions_t).where(router_versions_t.c.id == version)
        )

    async def versions(self) -> list[VersionRow]:
        query = sa.select(router_versions_t).order_by(router_versions_t.c.id)
        async with self._db.connect() as conn:
            return [VersionRow(**row) for row in (await conn.execute(query)).mappings().all()]

    async def _one(self, query: sa.Select[tuple[object, ...]]) -> VersionRow | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else VersionRow(**row)
