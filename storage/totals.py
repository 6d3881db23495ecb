"""Ledger aggregates from the hourly totals (`model_hours`, `channel_hours`, `user_hours`; and
`user_days` for the whole days of a window) plus the raw rows at the window's ragged edges: the
same figures as summing `calls`, at a cost that grows with the hours in the window, not with the
number of calls.

The totals tables are kept by triggers on `calls` (migration 0005), in the statement that
writes each call row, so a total is never behind or ahead of the raw rows. A window
[start, end) is read as: raw rows in [start, first whole hour), totals rows for the whole hours,
raw rows in [last whole hour, end); the parts are added in one outer GROUP BY.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from storage.rollups import (
    Dimension,
    Scope,
    day_expression,
    dimension_column,
    local_days,
    measures,
)
from storage.tables import calls_t, channel_hours_t, model_hours_t, user_days_t, user_hours_t

TOTALS = ("nano_usd", "calls", "errors", "input_tokens", "output_tokens", "estimated_calls",
          "unpriced_calls", "baseline_nano_usd", "compared_nano_usd")  # fmt: skip
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class TotalsTable:
    table: sa.Table
    dimensions: frozenset[str]  # besides "day"
    scopes: frozenset[str]  # the Scope fields it can filter on
    # The same totals per UTC day, read for a window's whole days: a user breakdown over a
    # month groups a row per user and day instead of per user and hour (~300,000 for 800).
    days: sa.Table | None = None


# Each groups a few columns (an hour holds few rows); a grouping or filter that needs columns
# of two tables (say models in one channel) is read from the raw rows.
TOTALS_TABLES = (
    TotalsTable(model_hours_t, frozenset({"platform", "workspace", "model", "tier", "strategy"}),
                frozenset({"platform", "workspace"})),
    TotalsTable(channel_hours_t, frozenset({"platform", "workspace", "channel"}),
                frozenset({"platform", "workspace", "channel"})),
    TotalsTable(user_hours_t, frozenset({"platform", "workspace", "user"}),
                frozenset({"platform", "workspace", "user"}), days=user_days_t),
)  # fmt: skip


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The first and last whole-hour boundaries inside [start, end) (UTC), if any hour fits."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += HOUR
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return (first, last) if first < last else None


def whole_days(first: datetime, last: datetime) -> tuple[datetime, datetime] | None:
    """The first and last UTC midnights inside [first, last], if a whole day fits."""
    start = first.replace(hour=0)
    if start < first:
        start += DAY
    end = last.replace(hour=0)
    return (start, end) if start < end else None


@dataclass(frozen=True)
class _Query:
    """One rollup request: what to group by, which rows, how days are cut."""

    dialect: str
    by: Sequence[Dimension]
    zone: ZoneInfo
    start: datetime
    end: datetime
    scope: Scope

    def table(self) -> TotalsTable | None:
        """The totals table that can answer this grouping, or None (thread grouping, a channel
        and a user filter at once, or local days that do not start on a UTC hour)."""
        wanted = {d for d in self.by if d != "day"}
        filters = {name for name in ("platform", "workspace", "channel", "user")
                   if getattr(self.scope, name) is not None}  # fmt: skip
        if "day" in self.by:
            first = self.start.astimezone(self.zone).date()
            last = (self.end - timedelta(microseconds=1)).astimezone(self.zone).date()
            for day in local_days(first, last, self.zone):
                if day.start.astimezone(UTC).minute or day.start.astimezone(UTC).second:
                    return None  # e.g. Asia/Kolkata: an hour's totals straddle local midnight
        for spec in TOTALS_TABLES:
            if wanted <= spec.dimensions and filters <= spec.scopes:
                return spec
        return None

    def raw(self, lo: datetime, hi: datetime) -> sa.Select[Any]:
        """Measures of the call rows in [lo, hi), grouped."""
        keys = [
            dimension_column(d, self.dialect, self.zone, self.start, self.end).label(f"k{i}")
            for i, d in enumerate(self.by)
        ]
        query = sa.select(*keys, *measures()).where(
            calls_t.c.created_at >= lo, calls_t.c.created_at < hi, *self.scope.conditions()
        )
        return query.group_by(*keys) if keys else query

    def whole(self, spec: TotalsTable, first: datetime, last: datetime) -> list[sa.Select[Any]]:
        """Measures of the totals of the whole hours [first, last): per day for the whole UTC
        days among them (when the table has daily totals and days are not a grouping), per
        hour for the rest."""
        days = None
        if spec.days is not None and "day" not in self.by:
            days = whole_days(first, last)
        if spec.days is None or days is None:
            return [self.totals(spec.table, "hour", first, last)]
        parts = [self.totals(spec.days, "day", *days)]
        if first < days[0]:
            parts.append(self.totals(spec.table, "hour", first, days[0]))
        if days[1] < last:
            parts.append(self.totals(spec.table, "hour", days[1], last))
        return parts

    def totals(self, t: sa.Table, when: str, lo: datetime, hi: datetime) -> sa.Select[Any]:
        """Measures of the totals rows of `t` whose hour (or day) `when` is in [lo, hi),
        grouped."""
        keys = [self._key(t, d).label(f"k{i}") for i, d in enumerate(self.by)]
        filters = [t.c[name] == value for name in ("platform", "workspace", "channel", "user")
                   if (value := getattr(self.scope, name)) is not None]  # fmt: skip
        sums = [sa.func.coalesce(sa.func.sum(t.c[m]), 0).label(m) for m in TOTALS]
        query = sa.select(*keys, *sums).where(t.c[when] >= lo, t.c[when] < hi, *filters)
        return query.group_by(*keys) if keys else query

    def _key(self, t: sa.Table, name: Dimension) -> sa.ColumnElement[Any]:
        if name == "day":  # hourly tables only (see `whole`)
            return day_expression(self.dialect, self.zone, self.start, self.end, t.c.hour)
        column: sa.ColumnElement[Any] = t.c[name]
        return column


def rollup_select(dialect: str, by: Sequence[Dimension], zone: ZoneInfo, start: datetime,
                  end: datetime, scope: Scope) -> sa.Select[Any]:  # fmt: skip
    """A SELECT of k0..kn (one per `by`) and the TOTALS measures, grouped by the keys, ordered
    most expensive first."""
    q = _Query(dialect, by, zone, start, end, scope)
    hours = whole_hours(start, end)
    spec = q.table() if hours else None
    if spec is None or hours is None:
        query = q.raw(start, end)
    else:
        first, last = hours
        parts = q.whole(spec, first, last)
        if start < first:
            parts.append(q.raw(start, first))
        if last < end:
            parts.append(q.raw(last, end))
        union = sa.union_all(*parts).subquery()
        keys = [union.c[f"k{i}"] for i in range(len(by))]
        sums = [sa.func.coalesce(sa.func.sum(union.c[m]), 0).label(m) for m in TOTALS]
        query = sa.select(*keys, *sums)
        if keys:
            query = query.group_by(*keys)
    if by:
        labels: list[sa.ColumnElement[Any]] = [sa.literal_column(f"k{i}") for i in range(len(by))]
        query = query.order_by(sa.desc("nano_usd"), *labels)
    return query
