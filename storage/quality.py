"""What answers were worth, per tier: judge scores, votes and escalations of a period's answers.

Tiers are keyed like the ledger's rollups: "" is a call without a tier (the fixed strategy).
Judge scores come back as count, sum and sum of squares, enough for a mean and its interval
without reading every score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import calls_t, feedback_t, judgements_t


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


class QualityData:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def by_tier(self, *, start: datetime, end: datetime) -> list[TierQuality]:
        """Answer calls made in [start, end), per tier (escalations counted after `start`)."""
        tier = sa.func.coalesce(calls_t.c.tier, "").label("tier")
        answer = (calls_t.c.purpose == "answer", *_in(start, end))
        escalated_questions = sa.select(calls_t.c.message_id).where(
            calls_t.c.escalation, calls_t.c.purpose == "answer", calls_t.c.created_at >= start
        )
        first = sa.and_(calls_t.c.status == "ok", sa.not_(calls_t.c.escalation))
        answers = (
            sa.select(
                tier,
                sa.func.count().filter(first),
                sa.func.count().filter(first, calls_t.c.message_id.in_(escalated_questions)),
            )
            .where(*answer)
            .group_by(tier)
        )
        score = judgements_t.c.score
        judged = (
            sa.select(
                tier,
                sa.func.count(score),
                sa.func.coalesce(sa.func.sum(score), 0),
                sa.func.coalesce(sa.func.sum(score * score), 0),
            )
            .join(calls_t, calls_t.c.id == judgements_t.c.call_id)
            .where(*answer)
            .group_by(tier)
        )
        votes = (
            sa.select(
                tier,
                sa.func.count().filter(feedback_t.c.value > 0),
                sa.func.count().filter(feedback_t.c.value < 0),
            )
            .join(calls_t, calls_t.c.id == feedback_t.c.call_id)
            .where(*answer)
            .group_by(tier)
        )
        found: dict[str, list[int]] = {}
        async with self._db.connect() as conn:
            for offset, query in ((0, answers), (2, judged), (5, votes)):
                for row in (await conn.execute(query)).all():
                    values = found.setdefault(str(row[0]), [0] * 7)
                    for i, value in enumerate(row[1:]):
                        values[offset + i] = int(value or 0)
        return [TierQuality(tier, *values) for tier, values in found.items()]
