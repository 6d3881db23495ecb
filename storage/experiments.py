"""SQL for experiment analysis: one row per enrolled thread, call timings, judge cost.

Threads are the unit of analysis (assignment is per thread). Only `purpose = 'answer'` calls
count toward a variant's cost; judge calls are summed separately. Calls made outside the
experiment's window (after it stopped, the thread kept its label but not its strategy) are left
out. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import (
    calls_t,
    feedback_t,
    judgements_t,
    messages_t,
    threads_t,
    utcnow,
)


@dataclass(frozen=True)
class ThreadStats:
    thread_id: int
    variant: str
    calls: int  # answer call attempts (retries and fallbacks included)
    cost_nano_usd: int  # of the priced ones
    unpriced_calls: int  # cost unknown: left out of the cost, counted here
    escalations: int  # answers re-asked one tier up
    solved: bool
    user_messages: int
    thumbs_up: int
    thumbs_down: int
    judge_total: int
    judge_count: int

    @property
    def followed_up(self) -> bool:
        """The user asked again after the first answer (an escalation is not a follow-up)."""
        return self.user_messages - self.escalations > 1

    @property
    def rated(self) -> bool:
        return self.thumbs_up + self.thumbs_down > 0

    @property
    def positive(self) -> bool:
        """A rated thread counts as a thumbs-up when its ups outnumber its downs."""
        return self.thumbs_up > self.thumbs_down


@dataclass(frozen=True)
class Timings:
    """Percentiles (linear interpolation, like percentile_cont) of successful answer calls."""

    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    stop: datetime | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found = []
        if self.start is not None:
            found.append(calls_t.c.created_at >= self.start)
        if self.stop is not None:
            found.append(calls_t.c.created_at < self.stop)
        return found


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks: what PostgreSQL's percentile_cont computes."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class ExperimentData:
    """What the A/B report and the judge read and write."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def thread_stats(self, experiment: str, window: Window = Window()) -> list[ThreadStats]:
        """Every thread enrolled in `experiment` with at least one answer call inside the window."""
        answer = [calls_t.c.purpose == "answer", *window.conditions()]
        calls = (
            sa.select(
                calls_t.c.thread_id,
                sa.func.count().label("calls"),
                sa.func.coalesce(sa.func.sum(calls_t.c.cost_nano_usd), 0).label("cost"),
                _count_if(calls_t.c.cost_nano_usd.is_(None)).label("unpriced"),
                sa.func.count(
                    sa.distinct(sa.case((calls_t.c.escalation, calls_t.c.message_id)))
                ).label("escalations"),
            )
            .where(*answer)
            .group_by(calls_t.c.thread_id)
            .subquery()
        )
        votes = (
            sa.select(
                calls_t.c.thread_id,
                _count_if(feedback_t.c.value > 0).label("up"),
                _count_if(feedback_t.c.value < 0).label("down"),
            )
            .join(calls_t, calls_t.c.id == feedback_t.c.call_id)
            .where(*answer)
            .group_by(calls_t.c.thread_id)
            .subquery()
        )
        scores = (
            sa.select(
                calls_t.c.thread_id,
                sa.func.coalesce(sa.func.sum(judgements_t.c.score), 0).label("total"),
                sa.func.count(judgements_t.c.score).label("n"),
            )
            .join(calls_t, calls_t.c.id == judgements_t.c.call_id)
            .where(*answer)
            .group_by(calls_t.c.thread_id)
            .subquery()
        )
        asked = (
            sa.select(messages_t.c.thread_id, sa.func.count().label("n"))
            .where(messages_t.c.role == "user")
            .group_by(messages_t.c.thread_id)
            .subquery()
        )
        query = (
            sa.select(
                threads_t.c.id,
                threads_t.c.variant,
                threads_t.c.solved_at,
                calls.c.calls,
                calls.c.cost,
                calls.c.unpriced,
                calls.c.escalations,
                sa.func.coalesce(asked.c.n, 0).label("asked"),
                sa.func.coalesce(votes.c.up, 0).label("up"),
                sa.func.coalesce(votes.c.down, 0).label("down"),
                sa.func.coalesce(scores.c.total, 0).label("judge_total"),
                sa.func.coalesce(scores.c.n, 0).label("judge_n"),
            )
            .join(calls, calls.c.thread_id == threads_t.c.id)
            .outerjoin(asked, asked.c.thread_id == threads_t.c.id)
            .outerjoin(votes, votes.c.thread_id == threads_t.c.id)
            .outerjoin(scores, scores.c.thread_id == threads_t.c.id)
            .where(threads_t.c.experiment == experiment, threads_t.c.variant.is_not(None))
            .order_by(threads_t.c.id)
        )
        async with self._db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            ThreadStats(
                thread_id=r.id,
                variant=r.variant,
                calls=int(r.calls),
                cost_nano_usd=int(r.cost),
                unpriced_calls=int(r.unpriced),
                escalations=int(r.escalations),
                solved=r.solved_at is not None,
                user_messages=int(r.asked),
                thumbs_up=int(r.up),
                thumbs_down=int(r.down),
                judge_total=int(r.judge_total),
                judge_count=int(r.judge_n),
            )
            for r in rows
        ]

    async def timings(self, experiment: str, window: Window = Window()) -> dict[str, Timings]:
        """Latency and time-to-first-token percentiles of successful answer calls, per variant."""
        where = [
            threads_t.c.experiment == experiment,
            calls_t.c.purpose == "answer",
            calls_t.c.status == "ok",
            *window.conditions(),
        ]
        base = sa.select(threads_t.c.variant).join(threads_t, threads_t.c.id == calls_t.c.thread_id)
        async with self._db.connect() as conn:
            if self._db.dialect.name == "postgresql":
                columns = [
                    sa.func.percentile_cont(f).within_group(col)
                    for col in (calls_t.c.latency_ms, calls_t.c.ttft_ms)
                    for f in (0.5, 0.95)
                ]
                query = base.add_columns(*columns).where(*where).group_by(threads_t.c.variant)
                return {
                    row[0]: Timings(*(None if v is None else float(v) for v in row[1:]))
                    for row in (await conn.execute(query)).all()
                }
            query = base.add_columns(calls_t.c.latency_ms, calls_t.c.ttft_ms).where(*where)
            rows = (await conn.execute(query)).all()
        latency: dict[str, list[float]] = defaultdict(list)
        ttft: dict[str, list[float]] = defaultdict(list)
        for variant, lat, first in rows:
            if lat is not None:
                latency[variant].append(float(lat))
            if first is not None:
                ttft[variant].append(float(first))
        return {
            v: Timings(
                percentile(latency[v], 0.5),
                percentile(latency[v], 0.95),
                percentile(ttft[v], 0.5),
                percentile(ttft[v], 0.95),
            )
            for v in {row[0] for row in rows}
        }

    async def judge_cost(self, experiment: str, window: Window = Window()) -> tuple[int, int]:
        """(judge calls, their known cost in nano-USD) on the experiment's threads."""
        query = (
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(calls_t.c.cost_nano_usd), 0))
            .join(threads_t, threads_t.c.id == calls_t.c.thread_id)
            .where(
                threads_t.c.experiment == experiment,
                calls_t.c.purpose == "judge",
                *window.conditions(),
            )
        )
        async with self._db.connect() as conn:
            count, cost = (await conn.execute(query)).one()
        return int(count), int(cost)

    async def record_judgement(
        self, call_id: int, judge_call_id: int | None, score: int | None
    ) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                sa.insert(judgements_t).values(
                    call_id=call_id, judge_call_id=judge_call_id, score=score, created_at=utcnow()
                )
            )
