"""Exactly-once work across tasks and replicas: whoever inserts (job, scope, period) does the job.

A unique row, not an in-memory flag: it holds across concurrent writers, restarts and replicas.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import insert_ignore
from storage.tables import claims_t, utcnow


async def claim(engine: AsyncEngine, job: str, scope: str, period: str) -> bool:
    """True when this caller claimed (job, scope, period) first and should do the work."""
    async with engine.begin() as conn:
        return await insert_ignore(
            conn,
            claims_t,
            {"job": job, "scope": scope[:255], "period": period, "created_at": utcnow()},
        )


async def claimed_periods(engine: AsyncEngine, job: str, scope: str) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(claims_t.c.period).where(
                claims_t.c.job == job, claims_t.c.scope == scope[:255]
            )
        )
        return {row.period for row in rows}
