"""Expected figures recomputed from raw call rows in plain Python: what the pages must show."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import calls_t


@dataclass(frozen=True)
class Totals:
    nano_usd: int
    calls: int
    errors: int
    unpriced: int
    estimated: int
    saved: int


def totals(rows: Iterable[Mapping[str, Any]]) -> Totals:
    """Rows as the ledger stores them, or as `switchboard report` writes them (strings)."""

    def num(value: Any) -> int | None:
        return None if value in (None, "") else int(value)

    rows = list(rows)
    both = [(num(r["cost_nano_usd"]), num(r["baseline_cost_nano_usd"])) for r in rows]
    return Totals(
        nano_usd=sum(num(r["cost_nano_usd"]) or 0 for r in rows),
        calls=len(rows),
        errors=sum(r["status"] == "error" for r in rows),
        unpriced=sum(r["cost_source"] == "unpriced" for r in rows),
        estimated=sum(r["cost_source"] == "estimated" for r in rows),
        saved=sum(b - c for c, b in both if c is not None and b is not None),
    )


async def call_rows(db: AsyncEngine) -> list[dict[str, Any]]:
    model = sa.func.coalesce(calls_t.c.model_served, calls_t.c.model_asked).label("model")
    async with db.connect() as conn:
        found = await conn.execute(sa.select(calls_t, model).order_by(calls_t.c.id))
        return [dict(r._mapping) for r in found]


def between(
    rows: Iterable[dict[str, Any]], first: date, last: date, zone: ZoneInfo
) -> list[dict[str, Any]]:
    return [r for r in rows if first <= r["created_at"].astimezone(zone).date() <= last]


def grouped(
    rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str]
) -> dict[str, Totals]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {k: totals(v) for k, v in groups.items()}


def nano_of(html: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}" data-nano="(-?\d+)"', html)
    assert found, f"no #{element_id} with data-nano on the page"
    return int(found.group(1))


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, f"no #{element_id} on the page"
    return found.group(1).strip()
