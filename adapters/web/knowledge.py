"""The knowledge page: the share of questions answered from the docs, the pages answers cite
most, and the content gaps (the questions no page covered, grouped by the word they share)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web.periods import Period
from bot.knowledge.gaps import Gap, group_gaps
from storage.database import run_transaction
from storage.knowledge_answers import KnowledgeUse, knowledge_use


@dataclass(frozen=True)
class KnowledgeView:
    period: Period
    use: KnowledgeUse
    gaps: tuple[Gap, ...]

    @property
    def cited_share(self) -> float | None:
        return self.use.cited / self.use.questions if self.use.questions else None


async def build_knowledge(db: AsyncEngine, period: Period) -> KnowledgeView:
    start, end = period.start, period.end
    use = await run_transaction(db, lambda conn: knowledge_use(conn, start, end, top=20))
    return KnowledgeView(period, use, tuple(group_gaps(use.gaps, limit=20)))
