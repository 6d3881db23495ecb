"""The knowledge base's parts over one database, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.knowledge.folders import FolderReader
from bot.knowledge.ingest import Ingest
from bot.knowledge.retrieval import KnowledgeBase
from bot.settings import Settings
from storage.knowledge import KnowledgeStore


@dataclass
class Library:
    store: KnowledgeStore
    ingest: Ingest
    search: KnowledgeBase

    @classmethod
    def over(cls, db: AsyncEngine, settings: Settings) -> Library:
        store = KnowledgeStore(db)
        reader = FolderReader(settings.kb_max_file_bytes, settings.kb_max_files)
        return cls(store, Ingest(store, reader), KnowledgeBase(store))

    async def close(self) -> None:
        await self.store.close()
