"""Writes call rows straight into the ledger (the engine's own path is tested elsewhere)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.conversations import ThreadRef
from storage.tables import Message, Thread, calls_t


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
