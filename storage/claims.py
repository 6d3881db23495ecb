"""Exactly-once work across tasks and replicas: whoever inserts (job, scope, period) does the job.

A unique row, not an in-memory flag: it holds across concurrent writers, restarts and replicas.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import insert_ignore
from storage.tables import claims_t, utcnow


class Claims:
    """Exactly-once claims: the first inserter of (job, scope, period) does the job."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def claim(self, job: str, scope: str, period: str) -> bool:
        """True when this caller claimed (job, scope, period) first and should do the work."""
        async with self._db.begin() as conn:
            return await insert_ignore(
                conn,
                claims_t,
                {"job": job, "scope": scope[:255], "period": period, "created_at": utcnow()},
            )

    async def claimed_periods(self, job: str, scope: str) -> set[str]:
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(claims_t.c.period).where(
                    claims_t.c.job == job, claims_t.c.scope == scope[:255]
                )
            )
            return {row.period for row in rows}
