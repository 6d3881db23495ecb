"""Semantic retrieval (KB_EMBEDDING_MODEL): passages embedded at indexing, once each, and the
question at answer time, every request a call on the ledger; the similarity order fused with
the word index's; the word index alone when embedding fails. Against FakeProvider (the
simulator's labelled fake vectors) on both databases, and the simulator's `/embeddings`
through the real HTTP client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.knowledge.library import Library
from adapters.llm.simulator import LLMSimulator
from bot.knowledge.ingest import Ingest
from bot.knowledge.retrieval import KnowledgeBase
from bot.knowledge.semantic import Semantic, fused
from bot.llm.errors import ProviderUnavailable
from bot.llm.types import Asker
from storage.knowledge import KnowledgeStore
from storage.tables import calls_t
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, RecordingReply, Scripted, incoming
from tests.rows import rows

EMBEDDER = "openai/text-embedding-3-small"  # $0.02 per million input tokens
PAGES = {
    "alerts.md": "# Alerts\n\n## Alert rules\n\nAlert rules send alerts. Alerts for alert rules.",
    "quiet.md": "# Quiet hours\n\nTo stop alerts at night on your phone, turn on quiet hours in "
    "the app: no alerts reach your phone from 10 pm.",
    "billing.md": "# Billing\n\n## Invoices\n\nInvoices are sent monthly.\n\n## Refunds\n\n"
    "Refunds take five days.",
    "export.md": "# Export\n\nDownload your data as a CSV file from the settings page.",
    "teams.md": "# Teams\n\nInvite people to a team; owners manage its members.",
    "away.md": "# Away\n\nWhen the team is away, the on-call person gets the alerts.",
}
QUESTION = "stop the alerts"
ASKER = Asker("slack", "T1", "C9", "U7", "t1")


@dataclass
class Kit:
    store: KnowledgeStore
    semantic: Semantic
    ingest: Ingest
    provider: FakeProvider
    db: Database


@pytest.fixture
async def kit(database: Database, make_app: MakeApp, provider: FakeProvider) -> AsyncIterator[Kit]:
    app = await make_app(database, kb_embedding_model=EMBEDDER)
    store = KnowledgeStore(database.engine())
    semantic = Semantic(app.calls, store, EMBEDDER)
    ingest = Ingest(store, reader=None, semantic=semantic)  # type: ignore[arg-type]  # no folders
    yield Kit(store, semantic, ingest, provider, database)
    await store.close()
    await store.db.dispose()


async def _embedding_rows(db: AsyncEngine) -> list[Any]:
    return [r for r in await rows(db, calls_t) if r.purpose == "embedding"]


async def test_passages_are_embedded_once_each_and_only_again_when_their_text_changes(
    kit: Kit,
) -> None:
    for name, text in PAGES.items():
        assert await kit.ingest.put_text("default", name, text) == "added"
    embedded = [t for r in kit.provider.embeddings for t in r.texts]
    assert len(embedded) == 7  # one per passage, each once
    assert any(t.startswith("Billing › Refunds\n\nRefunds take") for t in embedded)
    ledger = await _embedding_rows(kit.store.db)
    assert len(ledger) == len(kit.provider.embeddings) == 6  # a page at a time: its passages
    assert all(r.model_asked == EMBEDDER and r.cost_nano_usd > 0 for r in ledger)
    # The same page again: nothing to embed. One passage changed: that one only.
    assert await kit.ingest.put_text("default", "billing.md", PAGES["billing.md"]) == "unchanged"
    changed = PAGES["billing.md"].replace("five days", "a week")
    assert await kit.ingest.put_text("default", "billing.md", changed) == "changed"
    assert [r.texts for r in kit.provider.embeddings[6:]] == [
        ("Billing › Refunds\n\nRefunds take a week.",)
    ]


async def test_similar_passages_move_up_and_the_question_is_one_call_on_the_askers_account(
    kit: Kit,
) -> None:
    for name, text in PAGES.items():
        await kit.ingest.put_text("default", name, text)
    before = len(await _embedding_rows(kit.store.db))
    lexical = await KnowledgeBase(kit.store).search(QUESTION, k=3)
    semantic = await KnowledgeBase(kit.store, semantic=kit.semantic).search(
        QUESTION, k=3, asker=ASKER
    )
    # The simulator's fake vectors are bags of words: "away.md" shares the most words.
    assert [p.name for p in lexical.passages] == ["quiet.md", "alerts.md", "away.md"]
    assert [p.name for p in semantic.passages] == ["quiet.md", "away.md", "alerts.md"]
    assert semantic.confidence == lexical.confidence  # the order changes, not the coverage
    [question] = (await _embedding_rows(kit.store.db))[before:]
    assert (question.channel, question.user, question.cost_nano_usd > 0) == ("C9", "U7", True)
    assert kit.provider.embeddings[-1].texts == (QUESTION,)


async def test_when_embedding_fails_the_word_index_answers_and_it_is_logged_once(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    for name, text in PAGES.items():
        await kit.ingest.put_text("default", name, text)
    lexical = [p.name for p in (await KnowledgeBase(kit.store).search(QUESTION)).passages]
    kit.provider.enqueue(Scripted(error=ProviderUnavailable(detail="503"), model=EMBEDDER,
                                  repeat=10))  # fmt: skip
    kb = KnowledgeBase(kit.store, semantic=kit.semantic)
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.semantic"):
        for _ in range(2):
            assert [p.name for p in (await kb.search(QUESTION, asker=ASKER)).passages] == lexical
    assert len([r for r in caplog.records if "lexical only" in r.getMessage()]) == 1
    failed = [r for r in await _embedding_rows(kit.store.db) if r.status == "error"]
    assert failed  # every try is on the ledger, failed or not


async def test_passages_not_embedded_at_indexing_are_listed_and_embedded_by_the_next_sync(
    kit: Kit,
) -> None:
    kit.provider.enqueue(Scripted(error=ProviderUnavailable(detail="503"), model=EMBEDDER,
                                  repeat=10))  # fmt: skip
    report = await kit.ingest.sync()  # nothing added from folders: only the embedding step
    assert report.problems == []
    await kit.ingest.put_text("default", "alerts.md", PAGES["alerts.md"])  # failed: logged
    kit.provider._queue.clear()  # the provider is back
    report = await kit.ingest.sync()
    assert report.embedding is not None and report.embedding.passages == 1


def test_reciprocal_rank_fusion_lifts_what_both_orders_rank_well() -> None:
    lexical = [1, 2, 3, 4]
    assert fused(lexical, {1: 0.1, 2: 0.9, 3: 0.5, 4: 0.2}) == [2, 1, 3, 4]
    assert fused(lexical, {}) == lexical  # nothing embedded: the lexical order
    # Passages without a vector (not embedded yet) count their lexical rank twice.
    assert fused(lexical, {4: 0.9}) == [1, 2, 4, 3]


async def test_the_simulators_embeddings_through_the_http_client_are_on_the_ledger(
    sqlite_db: Database, make_app: MakeApp
) -> None:
    async with LLMSimulator(speed=0) as sim:
        app = await make_app(
            sqlite_db, llm_base_url=sim.base_url, kb_embedding_model=EMBEDDER,
            routing_strategy="fixed",
        )  # fmt: skip
        library = Library.over(app.stores.db, app.settings, app.calls)
        try:
            for name, text in PAGES.items():
                await library.ingest.put_text("default", name, text)
            reply = RecordingReply()
            result = await app.engine.handle(incoming(QUESTION, "e1"), reply)
        finally:
            await library.close()
    assert result.status == "answered"
    ledger = await _embedding_rows(app.stores.db)
    assert len(ledger) == 7  # six pages' passages, then the question
    assert all(r.cost_nano_usd and r.cost_source == "reported" for r in ledger)


def test_a_stored_vector_keeps_its_cosine_within_a_percent() -> None:
    from random import Random

    from storage.knowledge_vectors import pack, unpack

    rng = Random(3)
    for _ in range(20):
        a = [rng.gauss(0, 1) for _ in range(256)]
        b = [x + rng.gauss(0, 1) for x in a]
        exact = sum(x * y for x, y in zip(a, b, strict=True)) / (
            sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5
        )
        (sa_, va), (sb, vb) = unpack(pack(a)), unpack(pack(b))
        stored = sum(x * y for x, y in zip(va, vb, strict=True)) * sa_ * sb
        assert abs(stored - exact) < 0.01
        assert len(pack(a)) == 4 + 256  # a float32 scale, then one byte a dimension
