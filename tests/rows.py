"""Rows straight into and out of the database (the engine's own path is tested elsewhere)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.records import ThreadRef
from storage.tables import (
    Message,
    Thread,
    calls_t,
    channel_settings_t,
    feedback_t,
    messages_t,
    threads_t,
)


async def make_thread(
    engine: AsyncEngine,
    channel: str = "c1",
    external: str = "t1",
    platform: str = "console",
    workspace: str = "w1",
) -> tuple[int, int]:
    """A thread with one question; returns (thread_id, message_id)."""
    ref = ThreadRef(platform, workspace, channel, external)
    async with engine.begin() as conn:
        thread_id = (
            await conn.execute(
                sa.insert(Thread.__table__).values(  # type: ignore[attr-defined]
                    key=ref.key,
                    platform=platform,
                    workspace=workspace,
                    channel=channel,
                    external_id=external,
                )
            )
        ).inserted_primary_key[0]
        message_id = (
            await conn.execute(
                sa.insert(Message.__table__).values(  # type: ignore[attr-defined]
                    thread_id=thread_id, role="user", text="q"
                )
            )
        ).inserted_primary_key[0]
    return int(thread_id), int(message_id)


def call_values(thread: tuple[int, int], created_at: datetime, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "thread_id": thread[0],
        "message_id": thread[1],
        "platform": "console",
        "workspace": "w1",
        "channel": "c1",
        "user": "u1",
        "strategy": "fixed",
        "tier": "budget",
        "model_asked": "openai/gpt-4o-mini",
        "model_served": None,
        "input_tokens": 100,
        "output_tokens": 50,
        "cost_nano_usd": 1000,
        "cost_source": "reported",
        "baseline_cost_nano_usd": 5000,
        "latency_ms": 500,
        "status": "ok",
        "attempt": 1,
        "purpose": "answer",
        "reasons": "",
        "escalation": False,
        "created_at": created_at,
    }
    values.update(overrides)
    return values


async def insert_calls(engine: AsyncEngine, rows: Sequence[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(calls_t), list(rows))


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


async def feedback_of(db: AsyncEngine, call_id: int) -> dict[str, int]:
    """{user: +1/-1} on one answer."""
    async with db.connect() as conn:
        found = await conn.execute(
            sa.select(feedback_t.c.user, feedback_t.c.value).where(feedback_t.c.call_id == call_id)
        )
        return {row.user: row.value for row in found}


async def channel_tier(db: AsyncEngine, platform: str, workspace: str, channel: str) -> str | None:
    """The tier an admin pinned for a channel (None: not set, or set back to auto)."""
    async with db.connect() as conn:
        value = await conn.scalar(
            sa.select(channel_settings_t.c.tier).where(
                channel_settings_t.c.platform == platform,
                channel_settings_t.c.workspace == workspace,
                channel_settings_t.c.channel == channel,
            )
        )
        return None if value is None else str(value)
