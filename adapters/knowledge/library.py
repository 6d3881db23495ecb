"""The knowledge base's parts over one database, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.knowledge.folders import FolderReader
from bot.knowledge.ingest import Ingest
from bot.knowledge.retrieval import KnowledgeBase
from bot.knowledge.semantic import Semantic
from bot.llm.calls import Calls
from bot.settings import Settings
from storage.knowledge import KnowledgeStore


@dataclass
class Library:
    store: KnowledgeStore
    ingest: Ingest
    search: KnowledgeBase

    @classmethod
    def over(cls, db: AsyncEngine, settings: Settings, calls: Calls | None = None) -> Library:
        """`calls`: the metered call path, for semantic retrieval (KB_EMBEDDING_MODEL)."""
        store = KnowledgeStore(db)
        reader = FolderReader(settings.kb_max_file_bytes, settings.kb_max_files)
        model = settings.kb_embedding_model.strip()
        semantic = Semantic(calls, store, model) if calls is not None and model else None
        return cls(store, Ingest(store, reader, semantic), KnowledgeBase(store, semantic=semantic))

    async def close(self) -> None:
        await self.store.close()
