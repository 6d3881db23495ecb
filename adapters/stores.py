"""The storage part of the composition root: the database engine and the storage objects over
it, for `build` and for the commands that only read or write the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.routing_setup import shipped_analyzer
from bot.learning.versions import RouterVersions
from bot.settings import Settings
from routing.active import ScorerSlot
from storage.claims import Claims
from storage.conversations import Conversations
from storage.database import DEFAULT_DEADLINE_S
from storage.experiments import ExperimentData
from storage.journal import Journal
from storage.learning import LearningData
from storage.ledger import Ledger
from storage.signals import Signals


@dataclass(frozen=True)
class Stores:
    """The storage objects, each built once over one database engine."""

    db: AsyncEngine
    conversations: Conversations
    ledger: Ledger
    claims: Claims
    signals: Signals
    experiments: ExperimentData
    learning: LearningData

    @classmethod
    def over(
        cls, db: AsyncEngine, *, wait_s: float = DEFAULT_DEADLINE_S, journal: Journal | None = None
    ) -> Stores:
        """`wait_s`: the deadline of each of the conversation record's transactions;
        `journal`: where the writes an outage keeps from the database are kept on disk."""
        return cls(
            db, Conversations(db, wait_s=wait_s, journal=journal), Ledger(db), Claims(db),
            Signals(db), ExperimentData(db), LearningData(db),
        )  # fmt: skip


def router_versions(stores: Stores, slot: ScorerSlot | None = None) -> RouterVersions:
    base = shipped_analyzer()
    return RouterVersions(stores.learning, base, slot or ScorerSlot(base))


async def open_database(
    settings: Settings, *, migrate: bool = True, create: bool = True
) -> AsyncEngine:
    """DATABASE_URL's engine; failures to open it become one `ConfigError` line (see
    adapters/database.py); `create=False` never creates a database that is not there."""
    from adapters.database import open_database as open_checked

    return await open_checked(settings, migrate=migrate, create=create)


@asynccontextmanager
async def stores_for(settings: Settings, *, create: bool = True) -> AsyncIterator[Stores]:
    """The storage objects over DATABASE_URL, for commands that only read or write the ledger
    (read-only ones pass `create=False`)."""
    db = await open_database(settings, create=create)
    stores = Stores.over(db)
    try:
        yield stores
    finally:
        await stores.conversations.close()
        await db.dispose()
