"""Ledger queries: what calls cost, aggregated in SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.quality import votes
from storage.rollups import (
    UTC_ZONE,
    Dimension,
    QualityCounts,
    Rollup,
    Scope,
    rollup_of,
    thread_labels,
)
from storage.tables import calls_t, messages_t, threads_t
from storage.totals import rollup_select


@dataclass(frozen=True)
class CallRow:
    id: int
    thread: str | None  # None for a call that answers no question (a credential check)
    question: str | None
    strategy: str
    tier: str | None
    model: str
    status: str
    input_tokens: int | None
    output_tokens: int | None
    cost_nano_usd: int | None
    cost_source: str
    baseline_cost_nano_usd: int | None
    latency_ms: int | None
    ttft_ms: int | None
    decision_us: int | None
    attempt: int


@dataclass(frozen=True)
class SpendTotal:
    nano_usd: int
    calls: int
    unpriced_calls: int


LEDGER_COLUMNS = ("id", "created_at", "platform", "workspace", "channel", "thread", "user",
                  "purpose", "provider", "strategy", "tier", "model", "status", "error_kind",
                  "attempt",
                  "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                  "reasoning_tokens", "cost_nano_usd", "cost_source",
                  "baseline_cost_nano_usd", "latency_ms", "ttft_ms")  # fmt: skip


class Ledger:
    """Reads of the call ledger, aggregated in SQL."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def call_rows(
        self, *, platform: str | None = None, since: datetime | None = None
    ) -> list[CallRow]:
        """Every call attempt (oldest first) with its question, for small reports like the demo."""
        query = (
            sa.select(
                calls_t.c.id,
                threads_t.c.external_id.label("thread"),
                messages_t.c.text.label("question"),
                calls_t.c.strategy,
                calls_t.c.tier,
                sa.func.coalesce(calls_t.c.model_served, calls_t.c.model_asked).label("model"),
                calls_t.c.status,
                calls_t.c.input_tokens,
                calls_t.c.output_tokens,
                calls_t.c.cost_nano_usd,
                calls_t.c.cost_source,
                calls_t.c.baseline_cost_nano_usd,
                calls_t.c.latency_ms,
                calls_t.c.ttft_ms,
                calls_t.c.decision_us,
                calls_t.c.attempt,
            )
            # Outer joins: a credential check or an embedding request has no question.
            .outerjoin(threads_t, threads_t.c.id == calls_t.c.thread_id)
            .outerjoin(messages_t, messages_t.c.id == calls_t.c.message_id)
            .order_by(calls_t.c.id)
        )
        if platform is not None:
            query = query.where(calls_t.c.platform == platform)
        if since is not None:
            query = query.where(calls_t.c.created_at >= since)
        async with self._db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [CallRow(**row._mapping) for row in rows]

    async def spend_total(
        self,
        *,
        start: datetime,
        end: datetime,
        platform: str | None = None,
        workspace: str | None = None,
        channel: str | None = None,
        user: str | None = None,
    ) -> SpendTotal:
        """Spend and call count in [start, end), optionally for one workspace / channel / user."""
        scope = Scope(platform, workspace, channel, user)
        total = await self.total(start=start, end=end, scope=scope)
        return SpendTotal(total.nano_usd, total.calls, total.unpriced_calls)

    async def rollup(
        self,
        *,
        start: datetime,
        end: datetime,
        by: Sequence[Dimension] = (),
        zone: ZoneInfo = UTC_ZONE,
        scope: Scope = Scope(),
        limit: int | None = None,
    ) -> list[Rollup]:
        """Aggregates of the calls in [start, end) grouped by `by` (none: one total row).

        Groups come most expensive first. Days are local days in `zone`; a thread's key is its
        "channel/external id". Read from the hourly totals where they can answer (storage.totals),
        so the cost grows with the hours in the window, not with the calls.
        """
        query = rollup_select(self._db.dialect.name, by, zone, start, end, scope)
        if limit is not None:
            query = query.limit(limit)
        async with self._db.connect() as conn:
            rows = (await conn.execute(query)).all()
            labels = await thread_labels(conn, by, rows)
        result = []
        for row in rows:
            key = tuple(
                labels.get(row[i], "" if row[i] is None else str(row[i]))  # None: no thread
                if d == "thread"
                else str(row[i])
                for i, d in enumerate(by)
            )
            result.append(rollup_of(key, row))
        return result

    async def total(self, *, start: datetime, end: datetime, scope: Scope = Scope()) -> Rollup:
        """One Rollup for every call in [start, end)."""
        return (await self.rollup(start=start, end=end, scope=scope))[0]

    async def quality_counts(self, *, start: datetime, end: datetime) -> QualityCounts:
        in_window = (calls_t.c.created_at >= start, calls_t.c.created_at < end)
        escalated = sa.select(sa.func.count(sa.distinct(calls_t.c.message_id))).where(
            calls_t.c.escalation, calls_t.c.purpose == "answer", *in_window
        )
        solved = sa.select(sa.func.count()).where(
            threads_t.c.solved_at >= start, threads_t.c.solved_at < end
        )
        async with self._db.connect() as conn:
            up, down = await votes(conn, start, end)
            escalations = await conn.scalar(escalated)
            solved_threads = await conn.scalar(solved)
        return QualityCounts(int(up), int(down), int(escalations or 0), int(solved_threads or 0))

    async def latency_percentiles(
        self,
        *,
        start: datetime,
        end: datetime,
        fractions: Sequence[float] = (0.5, 0.95),
        scope: Scope = Scope(),
    ) -> dict[float, float | None]:
        """Latency percentiles (linear interpolation, like percentile_cont) of successful calls."""
        latency = calls_t.c.latency_ms
        where = [calls_t.c.created_at >= start, calls_t.c.created_at < end,
                 calls_t.c.status == "ok", latency.is_not(None), *scope.conditions()]  # fmt: skip
        async with self._db.connect() as conn:
            if self._db.dialect.name == "postgresql":
                columns = [sa.func.percentile_cont(f).within_group(latency) for f in fractions]
                row = (await conn.execute(sa.select(*columns).where(*where))).one()
                return {
                    f: None if v is None else float(v) for f, v in zip(fractions, row, strict=True)
                }
            count = int(await conn.scalar(sa.select(sa.func.count()).where(*where)) or 0)
            result: dict[float, float | None] = {}
            for fraction in fractions:
                if count == 0:
                    result[fraction] = None
                    continue
                position = fraction * (count - 1)
                lower = int(position)
                values = (
                    (
                        await conn.execute(
                            sa.select(latency)
                            .where(*where)
                            .order_by(latency)
                            .limit(2)
                            .offset(lower)
                        )
                    )
                    .scalars()
                    .all()
                )
                low = float(values[0])
                high = float(values[1]) if len(values) > 1 else low
                result[fraction] = low + (high - low) * (position - lower)
            return result

    async def first_call_at(self) -> datetime | None:
        async with self._db.connect() as conn:
            value: datetime | None = await conn.scalar(sa.select(sa.func.min(calls_t.c.created_at)))
        if value is not None and value.tzinfo is None:  # min() loses the column type on SQLite
            value = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
        return value

    async def export(self, *, start: datetime, end: datetime) -> AsyncIterator[dict[str, Any]]:
        """Every call in [start, end), oldest first, streamed (exports can be millions of rows)."""
        special = {
            "thread": threads_t.c.external_id.label("thread"),
            "model": sa.func.coalesce(calls_t.c.model_served, calls_t.c.model_asked).label("model"),
        }
        query = (
            sa.select(*(special[n] if n in special else calls_t.c[n] for n in LEDGER_COLUMNS))
            .outerjoin(threads_t, threads_t.c.id == calls_t.c.thread_id)  # checks have none
            .where(calls_t.c.created_at >= start, calls_t.c.created_at < end)
            .order_by(calls_t.c.created_at, calls_t.c.id)
        )
        async with self._db.connect() as conn:
            result = await conn.stream(query)
            async for row in result:
                yield dict(row._mapping)
