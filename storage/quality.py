"""What answers were worth, per tier: judge scores, votes and escalations of a period's answers.

Tiers are keyed like the ledger's rollups: "" is a call without a tier (the fixed strategy).
Judge scores come back as count, sum and sum of squares, enough for a mean and its interval
without reading every score. The whole hours of a period are read from `quality_hours`
(kept by triggers, storage/quality_ddl.py), its ragged ends from the raw rows, like the spend
totals (storage/totals.py); escalations are few and read from the calls through their index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.tables import calls_t, feedback_t, judgements_t, quality_hours_t
from storage.totals import whole_hours


@dataclass(frozen=True)
class TierQuality:
    tier: str
    first_answers: int  # successful answers that were not themselves an escalation
    escalated: int  # of those, questions the user re-asked one tier up
    judged: int
    judge_sum: int
    judge_sum_squares: int
    thumbs_up: int
    thumbs_down: int


def _in(start: datetime, end: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    return calls_t.c.created_at >= start, calls_t.c.created_at < end


def parts(start: datetime, end: datetime) -> Iterator[tuple[bool, datetime, datetime]]:
    """[start, end) as (from the hourly counts?, lo, hi): its whole hours, and its raw ends."""
    hours = whole_hours(start, end)
    if hours is None:
        yield False, start, end
        return
    first, last = hours
    yield True, first, last
    for lo, hi in ((start, first), (last, end)):
        if lo < hi:
            yield False, lo, hi


TIER = sa.func.coalesce(calls_t.c.tier, "")
COUNTED = ("first_answers", "judged", "judge_sum", "judge_sum_squares", "thumbs_up",
           "thumbs_down")  # fmt: skip


def _hourly(lo: datetime, hi: datetime) -> sa.Select[Any]:
    q = quality_hours_t.c
    sums = [sa.func.coalesce(sa.func.sum(q[name]), 0) for name in COUNTED]
    return (
        sa.select(q.tier, *sums)
        .where(q.purpose == "answer", q.hour >= lo, q.hour < hi)
        .group_by(q.tier)
        .having(sa.func.sum(q.calls) > 0)  # a tier whose calls were all deleted is not listed
    )


def _raw(lo: datetime, hi: datetime) -> list[sa.Select[Any]]:
    """The same counts from the raw rows of [lo, hi): first answers, scores, votes."""
    answer = (calls_t.c.purpose == "answer", *_in(lo, hi))
    first = sa.and_(calls_t.c.status == "ok", sa.not_(calls_t.c.escalation))
    score = judgements_t.c.score
    return [
        sa.select(TIER, sa.func.count().filter(first)).where(*answer).group_by(TIER),
        sa.select(
            TIER,
            sa.func.count(score),
            sa.func.coalesce(sa.func.sum(score), 0),
            sa.func.coalesce(sa.func.sum(score * score), 0),
        )
        .join(calls_t, calls_t.c.id == judgements_t.c.call_id)
        .where(*answer)
        .group_by(TIER),
        sa.select(
            TIER,
            sa.func.count().filter(feedback_t.c.value > 0),
            sa.func.count().filter(feedback_t.c.value < 0),
        )
        .join(calls_t, calls_t.c.id == feedback_t.c.call_id)
        .where(*answer)
        .group_by(TIER),
    ]


def _escalated(start: datetime, end: datetime, dialect: str = "sqlite") -> sa.Select[Any, int]:
    """First answers of [start, end) whose question was escalated since `start`, per tier."""
    escalations = sa.select(calls_t.c.message_id).where(
        calls_t.c.escalation, calls_t.c.purpose == "answer", calls_t.c.created_at >= start
    )
    if dialect == "postgresql":
        return _escalated_from_escalations(start, end, escalations)
    return (
        sa.select(TIER, sa.func.count())
        .where(
            calls_t.c.purpose == "answer",
            calls_t.c.status == "ok",
            sa.not_(calls_t.c.escalation),
            *_in(start, end),
            calls_t.c.message_id.in_(escalations),
        )
        .group_by(TIER)
    )


def _escalated_from_escalations(
    start: datetime, end: datetime, escalations: sa.Select[Any]
) -> sa.Select[Any, int]:
    """The same counts, on PostgreSQL, read from the escalations' side: for each escalated
    question its first answers, through the index on message_id. Written as an IN, PostgreSQL
    hashes the escalations and reads every call of the period (30 days of 1M calls in 60:
    ~485,000 rows, 0.64 s); the OFFSET 0 keeps the lateral subquery from being merged back
    into that plan, so the work grows with the escalations (~10,000: a nested loop)."""
    asked = escalations.distinct().subquery("escalated")
    c = calls_t.alias("first_answer")
    first = (
        sa.select(c.c.tier)
        .where(
            c.c.message_id == asked.c.message_id,
            c.c.purpose == "answer",
            c.c.status == "ok",
            sa.not_(c.c.escalation),
            c.c.created_at >= start,
            c.c.created_at < end,
        )
        .offset(0)
        .lateral("first")
    )
    tier = sa.func.coalesce(first.c.tier, "")
    return sa.select(tier, sa.func.count()).select_from(asked).join(first, sa.true()).group_by(tier)


Counts = sa.Select[*tuple[Any, ...]]
# Where each query's columns go in TierQuality's counts (after the tier).
_HOURLY = (0, 2, 3, 4, 5, 6)
_RAW = ((0,), (2, 3, 4), (5, 6))


class QualityData:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def by_tier(self, *, start: datetime, end: datetime) -> list[TierQuality]:
        """Answer calls made in [start, end), per tier (escalations counted after `start`)."""
        found: dict[str, list[int]] = {}

        async def add(conn: AsyncConnection, query: Counts, at: tuple[int, ...]) -> None:
            for row in (await conn.execute(query)).all():
                values = found.setdefault(str(row[0]), [0] * 7)
                for offset, value in zip(at, row[1:], strict=True):
                    values[offset] += int(value or 0)

        async with self._db.connect() as conn:
            for hourly, lo, hi in parts(start, end):
                if hourly:
                    await add(conn, _hourly(lo, hi), _HOURLY)
                    continue
                for query, at in zip(_raw(lo, hi), _RAW, strict=True):
                    await add(conn, query, at)
            await add(conn, _escalated(start, end, conn.dialect.name), (1,))
        return [TierQuality(tier, *values) for tier, values in found.items()]


async def votes(conn: AsyncConnection, start: datetime, end: datetime) -> tuple[int, int]:
    """(thumbs up, thumbs down) on the calls made in [start, end), whatever their purpose."""
    up = down = 0
    for hourly, lo, hi in parts(start, end):
        if hourly:
            q = quality_hours_t.c
            query = sa.select(sa.func.sum(q.thumbs_up), sa.func.sum(q.thumbs_down)).where(
                q.hour >= lo, q.hour < hi
            )
        else:
            query = (
                sa.select(
                    sa.func.count().filter(feedback_t.c.value > 0),
                    sa.func.count().filter(feedback_t.c.value < 0),
                )
                .join(calls_t, calls_t.c.id == feedback_t.c.call_id)
                .where(*_in(lo, hi))
            )
        row = (await conn.execute(query)).one()
        up, down = up + int(row[0] or 0), down + int(row[1] or 0)
    return up, down
