"""Grouping call rows: the dimensions, filters and aggregate measures every report shares.

Days are local days in a time zone: PostgreSQL converts in SQL; SQLite buckets rows by each
local day's UTC bounds computed here. Unknown costs (NULL) are counted, never summed as zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import calls_t, threads_t

Dimension = Literal[
    "day", "platform", "workspace", "channel", "thread", "user", "model", "tier", "strategy",
    "purpose",
]


@dataclass(frozen=True)
class Scope:
    """Optional filters: one platform / workspace / channel / user."""

    platform: str | None = None
    workspace: str | None = None
    channel: str | None = None
    user: str | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        pairs = (
            ("platform", self.platform),
            ("workspace", self.workspace),
            ("channel", self.channel),
            ("user", self.user),
        )
        return [calls_t.c[name] == value for name, value in pairs if value is not None]


@dataclass(frozen=True)
class Rollup:
    """Aggregates of the call rows in one group. Unknown costs (NULL) are counted, not summed."""

    key: tuple[str, ...]
    nano_usd: int
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    estimated_calls: int
    unpriced_calls: int
    # Savings compare like with like: only calls whose actual and baseline cost are both known.
    baseline_nano_usd: int
    compared_nano_usd: int

    @property
    def savings_nano_usd(self) -> int:
        return self.baseline_nano_usd - self.compared_nano_usd


@dataclass(frozen=True)
class QualityCounts:
    """What users said about the answers of a period: votes on answers given in it, escalations
    asked in it, threads marked solved in it."""

    thumbs_up: int
    thumbs_down: int
    escalations: int
    solved_threads: int


@dataclass(frozen=True)
class LocalDay:
    day: date
    start: datetime  # UTC
    end: datetime  # UTC, exclusive


def local_days(first: date, last: date, zone: ZoneInfo) -> list[LocalDay]:
    """Each local day in [first, last] with its UTC bounds (23 or 25 hours on DST days)."""
    days = []
    current = first
    while current <= last:
        following = current + timedelta(days=1)
        days.append(LocalDay(current, _utc_midnight(current, zone), _utc_midnight(following, zone)))
        current = following
    return days


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def day_expression(
    dialect: str,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    column: sa.ColumnElement[datetime] | None = None,
) -> sa.ColumnElement[str]:
    """The local day (YYYY-MM-DD in `zone`) of `column` (default: calls.created_at)."""
    timestamp = calls_t.c.created_at if column is None else column
    if dialect == "postgresql":
        local = sa.func.timezone(zone.key, timestamp)
        return sa.func.to_char(local, "YYYY-MM-DD")
    # SQLite has no time zones: the local days' UTC bounds, computed here, bucket the rows.
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    whens = [(timestamp < d.end, d.day.isoformat()) for d in local_days(first, last, zone)]
    return sa.case(*whens, else_=last.isoformat())


def dimension_column(name: Dimension, dialect: str, zone: ZoneInfo, start: datetime,
               end: datetime) -> sa.ColumnElement[Any]:  # fmt: skip
    if name == "day":
        return day_expression(dialect, zone, start, end)
    if name == "model":
        return sa.func.coalesce(calls_t.c.model_served, calls_t.c.model_asked)
    if name == "tier":
        return sa.func.coalesce(calls_t.c.tier, "")
    column: sa.ColumnElement[Any] = calls_t.c["thread_id" if name == "thread" else name]
    return column


def measures() -> list[sa.ColumnElement[Any]]:
    cost, baseline = calls_t.c.cost_nano_usd, calls_t.c.baseline_cost_nano_usd
    both = sa.and_(cost.is_not(None), baseline.is_not(None))
    return [
        sa.func.coalesce(sa.func.sum(cost), 0).label("nano_usd"),
        sa.func.count().label("calls"),
        sa.func.count().filter(calls_t.c.status == "error").label("errors"),
        sa.func.coalesce(sa.func.sum(calls_t.c.input_tokens), 0).label("input_tokens"),
        sa.func.coalesce(sa.func.sum(calls_t.c.output_tokens), 0).label("output_tokens"),
        sa.func.count().filter(calls_t.c.cost_source == "estimated").label("estimated_calls"),
        sa.func.count().filter(calls_t.c.cost_source == "unpriced").label("unpriced_calls"),
        sa.func.coalesce(sa.func.sum(baseline).filter(both), 0).label("baseline_nano_usd"),
        sa.func.coalesce(sa.func.sum(cost).filter(both), 0).label("compared_nano_usd"),
    ]


def rollup_of(key: tuple[str, ...], row: sa.Row[Any]) -> Rollup:
    m = row._mapping
    counts = {f: int(m[f]) for f in _INT_FIELDS}
    return Rollup(key=key, **counts)


_INT_FIELDS = ("nano_usd", "calls", "errors", "input_tokens", "output_tokens", "estimated_calls",
               "unpriced_calls", "baseline_nano_usd", "compared_nano_usd")  # fmt: skip
UTC_ZONE = ZoneInfo("UTC")


async def thread_labels(
    conn: AsyncConnection, by: Sequence[Dimension], rows: Sequence[sa.Row[Any]]
) -> dict[Any, str]:
    if "thread" not in by:
        return {}
    index = list(by).index("thread")
    ids = {row[index] for row in rows}
    found = await conn.execute(
        sa.select(threads_t.c.id, threads_t.c.channel, threads_t.c.external_id).where(
            threads_t.c.id.in_(ids)
        )
    )
    return {r.id: f"{r.channel}/{r.external_id}" for r in found}
