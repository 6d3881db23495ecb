"""Quality signals users give: thumbs up/down on an answer, and "solved" on a thread."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import insert_ignore
from storage.records import ThreadRef
from storage.tables import feedback_t, threads_t, utcnow


class Signals:
    """Thumbs on answers and "solved" on threads."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def set_feedback(
        self, call_id: int, user: str, value: int, source: str = "reaction"
    ) -> None:
        """Record +1/-1 from `user` on a call; a second vote by the same user replaces the first.

        A value of 0 withdraws the vote (the user removed their reaction).
        """
        if value not in (-1, 0, 1):
            raise ValueError("feedback value must be -1, 0 or +1")
        async with self._db.begin() as conn:
            if value == 0:
                await conn.execute(
                    sa.delete(feedback_t).where(
                        feedback_t.c.call_id == call_id, feedback_t.c.user == user
                    )
                )
                return
            row = {"call_id": call_id, "user": user, "value": value, "source": source}
            if not await insert_ignore(conn, feedback_t, {**row, "updated_at": utcnow()}):
                await conn.execute(
                    sa.update(feedback_t)
                    .where(feedback_t.c.call_id == call_id, feedback_t.c.user == user)
                    .values(value=value, source=source, updated_at=utcnow())
                )

    async def mark_solved(self, ref: ThreadRef, user: str) -> bool:
        """Mark a thread solved (first marker wins); False when the thread is unknown."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(threads_t)
                .where(threads_t.c.key == ref.key, threads_t.c.solved_at.is_(None))
                .values(solved_at=utcnow(), solved_by=user)
            )
            if result.rowcount:
                return True
            found = await conn.scalar(sa.select(threads_t.c.id).where(threads_t.c.key == ref.key))
            return found is not None
