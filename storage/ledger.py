"""Ledger queries: what calls cost, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import Call, Message, Thread

calls_t = Call.__table__  # type: ignore[attr-defined]
messages_t = Message.__table__  # type: ignore[attr-defined]
threads_t = Thread.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CallRow:
    id: int
    thread: str
    question: str
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


async def call_rows(
    engine: AsyncEngine, *, platform: str | None = None, since: datetime | None = None
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
        .join(threads_t, threads_t.c.id == calls_t.c.thread_id)
        .join(messages_t, messages_t.c.id == calls_t.c.message_id)
        .order_by(calls_t.c.id)
    )
    if platform is not None:
        query = query.where(calls_t.c.platform == platform)
    if since is not None:
        query = query.where(calls_t.c.created_at >= since)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [CallRow(**row._mapping) for row in rows]


@dataclass(frozen=True)
class SpendTotal:
    nano_usd: int
    calls: int
    unpriced_calls: int


async def spend_total(
    engine: AsyncEngine,
    *,
    start: datetime,
    end: datetime,
    platform: str | None = None,
    workspace: str | None = None,
    channel: str | None = None,
    user: str | None = None,
) -> SpendTotal:
    """Spend and call count in [start, end), optionally for one workspace / channel / user."""
    conditions = [calls_t.c.created_at >= start, calls_t.c.created_at < end]
    for column, value in (("platform", platform), ("workspace", workspace),
                          ("channel", channel), ("user", user)):  # fmt: skip
        if value is not None:
            conditions.append(calls_t.c[column] == value)
    query = sa.select(
        sa.func.coalesce(sa.func.sum(calls_t.c.cost_nano_usd), 0),
        sa.func.count(),
        sa.func.count().filter(calls_t.c.cost_source == "unpriced"),
    ).where(*conditions)
    async with engine.connect() as conn:
        total, calls, unpriced = (await conn.execute(query)).one()
    return SpendTotal(int(total), int(calls), int(unpriced))
