"""Test doubles that speak the engine's real ports: a recording Reply and a two-model strategy."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.messages import AnswerMeta, Incoming, ReplyLimits
from routing.strategy import Decision, RouteRequest
from storage.tables import calls_t, messages_t, threads_t


@dataclass
class RecordingReply:
    """A Reply that remembers everything and, like a platform, returns ids of what it posted."""

    name: str = ""
    limits: ReplyLimits = field(default_factory=ReplyLimits)
    deltas: list[str] = field(default_factory=list)
    final: str | None = None
    meta: AnswerMeta | None = None
    error: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    post_ids: tuple[str, ...] = ()

    async def start(self) -> None:
        self.started_at = time.perf_counter()

    async def append(self, text: str) -> None:
        self.deltas.append(text)

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        self.final, self.meta, self.ended_at = text, meta, time.perf_counter()
        return list(self.post_ids)

    async def fail(self, message: str) -> None:
        self.error, self.ended_at = message, time.perf_counter()


def incoming(text: str, event_id: str, thread: str = "t1", **kw: Any) -> Incoming:
    values: dict[str, Any] = {
        "platform": "slack",
        "workspace": "T1",
        "channel": "C1",
        "thread": thread,
        "user": "U1",
        "text": text,
        "event_id": event_id,
    }
    values.update(kw)
    return Incoming(**values)  # fmt: skip


@dataclass(frozen=True)
class ModelList:
    """A strategy that asks `models` in order (first, then fallbacks)."""

    models: tuple[str, ...]
    name: str = "list"

    def decide(self, request: RouteRequest) -> Decision:
        return Decision(strategy=self.name, models=self.models, reasons=("test list",))


async def rows(db: AsyncEngine, table: sa.Table) -> list[sa.Row[Any]]:
    async with db.connect() as conn:
        return list((await conn.execute(sa.select(table).order_by(table.c.id))).all())


async def counts(db: AsyncEngine) -> tuple[int, int, int]:
    """(threads, messages, calls) rows."""
    found: list[int] = []
    async with db.connect() as conn:
        for table in (threads_t, messages_t, calls_t):
            found.append(int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0))
    return found[0], found[1], found[2]


async def fixed_app(make_app: Any, db: Any, **overrides: Any) -> Any:
    """An app on the `fixed` strategy (one model): the engine tests are about the engine."""
    overrides.setdefault("routing_strategy", "fixed")
    return await make_app(db, **overrides)
