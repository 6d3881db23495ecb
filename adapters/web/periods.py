"""Reporting periods: whole local days in the settings' time zone, as `switchboard report` counts.

A period is `?since=YYYY-MM-DD&until=YYYY-MM-DD` (both inclusive, local days); without them, the
month to date. The same dates given to `switchboard report --since --until` select the same calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from storage.rollups import LocalDay, local_days

MAX_DAYS = 400  # a little over a year: bounds what one request can ask the database for


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    zone: ZoneInfo

    @property
    def days(self) -> list[LocalDay]:
        return local_days(self.first, self.last, self.zone)

    @property
    def start(self) -> datetime:
        return self.days[0].start

    @property
    def end(self) -> datetime:
        return self.days[-1].end

    @property
    def query(self) -> dict[str, str]:
        return {"since": self.first.isoformat(), "until": self.last.isoformat()}

    def __str__(self) -> str:
        if self.first == self.last:
            return f"{self.first:%a %d %b %Y}"
        return f"{self.first:%d %b %Y} – {self.last:%d %b %Y}"


def today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def month_to_date(now: datetime, zone: ZoneInfo) -> Period:
    day = today(now, zone)
    return Period(day.replace(day=1), day, zone)


def last_days(count: int, now: datetime, zone: ZoneInfo) -> Period:
    day = today(now, zone)
    return Period(day - timedelta(days=count - 1), day, zone)


def presets(now: datetime, zone: ZoneInfo) -> list[tuple[str, Period]]:
    day = today(now, zone)
    previous = day.replace(day=1) - timedelta(days=1)
    return [
        ("Today", Period(day, day, zone)),
        ("7 days", last_days(7, now, zone)),
        ("This month", month_to_date(now, zone)),
        ("Last month", Period(previous.replace(day=1), previous, zone)),
        ("30 days", last_days(30, now, zone)),
        ("90 days", last_days(90, now, zone)),
    ]


def _date(query: Mapping[str, str], name: str) -> date | None:
    value = query.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name}: expected a date like 2026-11-28\n") from None


def period_from(query: Mapping[str, str], now: datetime, zone: ZoneInfo) -> Period:
    """The period a request asks for (default: month to date); 400 for a malformed one."""
    default = month_to_date(now, zone)
    first = _date(query, "since") or default.first
    last = _date(query, "until") or max(default.last, first)
    if last < first:
        raise web.HTTPBadRequest(text="until is before since\n")
    if (last - first).days >= MAX_DAYS:
        raise web.HTTPBadRequest(text=f"a period is at most {MAX_DAYS} days\n")
    return Period(first, last, zone)


def link(path: str, **params: object) -> str:
    """`path?a=1&b=2`, leaving out empty parameters."""
    kept = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path
