"""The knowledge base's documents: sources, pages replaced whole in one transaction each (a
question sees a page's old passages or its new ones, never half of each), listings and removal.

Each passage's postings (`storage.knowledge_postings`) are written with it and go with it (a
foreign key that cascades). Searching them is `storage.knowledge_search`; both share one
`Transactions` (on a SQLite file, one worker thread and connection).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import dialects
from storage.database import Transactions
from storage.knowledge_postings import postings, terms
from storage.knowledge_records import Page, Source, StoredDocument
from storage.knowledge_tables import (
    kb_documents_t,
    kb_passages_t,
    kb_sources_t,
    kb_terms_t,
)
from storage.knowledge_vectors import carry, old_vectors
from storage.tables import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
Outcome = Literal["added", "changed", "unchanged"]
_CHUNK = 500  # rows per IN (...) list: well under SQLite's 32,766 bound parameters
_ROWS = 5_000  # postings per INSERT (a page of 25 passages has ~1,000 to 2,500)


def body_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).casefold().encode()).hexdigest()


class KnowledgeStore:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self.transactions = Transactions(db)

    async def close(self) -> None:
        await self.transactions.close()

    async def run(self, body: Callable[[sa.Connection], T]) -> T:
        return await self.transactions.run(body)

    # --- sources ---------------------------------------------------------------------------

    async def add_source(self, collection: str, root: str, url_base: str | None) -> Source:
        """The source for `root` in `collection`, created or given the new URL base."""

        def body(conn: sa.Connection) -> Source:
            where = (kb_sources_t.c.collection == collection, kb_sources_t.c.root == root)
            found = conn.execute(sa.select(kb_sources_t.c.id).where(*where)).scalar()
            if found is None:
                conn.execute(sa.insert(kb_sources_t).values(
                    collection=collection, root=root, url_base=url_base, created_at=utcnow()
                ))  # fmt: skip
            else:
                conn.execute(sa.update(kb_sources_t).where(*where).values(url_base=url_base))
            return _source(conn.execute(sa.select(kb_sources_t).where(*where)).one())

        return await self.run(body)

    async def sources(self, collection: str | None = None) -> list[Source]:
        def body(conn: sa.Connection) -> list[Source]:
            query = sa.select(kb_sources_t).order_by(kb_sources_t.c.collection, kb_sources_t.c.root)
            if collection is not None:
                query = query.where(kb_sources_t.c.collection == collection)
            return [_source(row) for row in conn.execute(query)]

        return await self.run(body)

    async def mark_synced(self, source_id: int) -> None:
        await self.run(lambda conn: conn.execute(
            sa.update(kb_sources_t).where(kb_sources_t.c.id == source_id).values(synced_at=utcnow())
        ))  # fmt: skip

    async def refresh_statistics(self) -> None:
        """After a batch of pages, on PostgreSQL: the planner's statistics of the knowledge
        tables, and the trigram index's pending entries merged into it. Without them a search
        right after `kb add` waited for autovacuum: the spelling look-up scanned every word
        (45,634 words: 40-90 ms, against 0.2 ms once analysed; docs/benchmarks.md section 12).
        SQLite plans these statements by their indexes alone (measured: no change)."""
        if self.db.dialect.name != "postgresql":
            return

        def body(conn: sa.Connection) -> None:
            conn.execute(sa.text("ANALYZE kb_documents, kb_passages, kb_postings, kb_terms"))
            conn.execute(sa.text(  # the index is absent when pg_trgm could not be created
                "SELECT gin_clean_pending_list(i) FROM to_regclass('ix_kb_terms_trigram') AS i "
                "WHERE i IS NOT NULL"
            ))  # fmt: skip

        try:
            await self.run(body)
        except sa.exc.DBAPIError as error:  # e.g. a role that does not own the tables
            log.warning("knowledge base statistics not refreshed (%s): searches may be slow "
                        "until autovacuum analyses the tables", error.orig)  # fmt: skip

    # --- documents -------------------------------------------------------------------------

    async def documents(
        self, collection: str | None = None, source_id: int | None = None
    ) -> list[StoredDocument]:
        def body(conn: sa.Connection) -> list[StoredDocument]:
            d = kb_documents_t.c
            query = sa.select(
                d.id, d.collection, d.source_id, d.path, d.name, d.title, d.url,
                d.content_hash, d.passages,
            ).order_by(d.collection, d.name)  # fmt: skip
            if collection is not None:
                query = query.where(d.collection == collection)
            if source_id is not None:
                query = query.where(d.source_id == source_id)
            return [StoredDocument(*row) for row in conn.execute(query)]

        return await self.run(body)

    async def put(self, collection: str, page: Page, source_id: int | None = None) -> Outcome:
        """Store `page` in `collection` (replacing the page at the same path), in one
        transaction; "unchanged" when the same content is already there."""
        return await self.run(lambda conn: put_page(conn, collection, page, source_id))

    async def remove(self, document_ids: Sequence[int]) -> int:
        """Remove documents with their passages; how many there were."""
        return await self.run(lambda conn: remove_documents(conn, document_ids))

    async def remove_source(self, source_id: int) -> int:
        """Remove a source and its documents; how many documents went with it."""

        def body(conn: sa.Connection) -> int:
            ids = conn.execute(
                sa.select(kb_documents_t.c.id).where(kb_documents_t.c.source_id == source_id)
            ).scalars().all()  # fmt: skip
            removed = remove_documents(conn, ids)
            conn.execute(sa.delete(kb_sources_t).where(kb_sources_t.c.id == source_id))
            return removed

        return await self.run(body)


def _source(row: sa.Row[tuple[object, ...]]) -> Source:
    m = row._mapping
    return Source(m["id"], m["collection"], m["root"], m["url_base"], m["synced_at"])


def put_page(conn: sa.Connection, collection: str, page: Page, source_id: int | None) -> Outcome:
    d = kb_documents_t.c
    existing = conn.execute(
        sa.select(d.id, d.content_hash, d.url, d.name, d.source_id, d.terms)
        .where(d.collection == collection, d.path == page.path)
        .with_for_update()  # two syncs at once: the second waits, then sees the first's page
    ).one_or_none()
    if existing is not None and (
        existing.content_hash,
        existing.url,
        existing.name,
        existing.source_id,
    ) == (page.content_hash, page.url, page.name, source_id):
        return "unchanged"
    values = {
        "collection": collection, "source_id": source_id, "path": page.path, "name": page.name,
        "title": page.title, "url": page.url, "content_hash": page.content_hash,
        "passages": len(page.passages), "terms": " ".join(sorted(page.terms)),
        "updated_at": utcnow(),
    }  # fmt: skip
    old_terms: set[str] = set()
    kept: dict[str, tuple[str, bytes]] = {}
    if existing is None:
        inserted = conn.execute(sa.insert(kb_documents_t).values(**values)).inserted_primary_key
        assert inserted is not None
        document_id = inserted[0]
    else:
        document_id = existing.id
        old_terms = set(existing.terms.split())
        kept = old_vectors(conn, document_id)
        conn.execute(sa.delete(kb_passages_t).where(kb_passages_t.c.document_id == document_id))
        conn.execute(sa.update(kb_documents_t).where(d.id == document_id).values(**values))
    if page.passages:
        ids = conn.execute(
            sa.insert(kb_passages_t).returning(kb_passages_t.c.id, sort_by_parameter_order=True),
            [{"document_id": document_id, "position": p.position, "title": page.title,
              "headings": " › ".join(p.headings), "anchor": p.anchor, "body": p.text,
              "body_hash": body_hash(p.text), "stems": p.stems}
             for p in page.passages],
        ).scalars().all()  # fmt: skip
        title = terms(page.title)
        write_postings(conn, collection, [
            (passage_id, postings(title, p.headings, terms(p.text)))
            for passage_id, p in zip(ids, page.passages, strict=True)
        ])  # fmt: skip
        carry(conn, kept, [
            (passage_id, page.title, " › ".join(p.headings), p.text)
            for passage_id, p in zip(ids, page.passages, strict=True)
        ])  # fmt: skip
    _count_terms(conn, set(page.terms) - old_terms, old_terms - set(page.terms))
    return "added" if existing is None else "changed"


def write_postings(
    conn: sa.Connection, collection: str, passages: Sequence[tuple[int, dict[str, int]]]
) -> None:
    """Each passage's postings (term -> weight), in `collection`. Through the driver: a page
    has a few thousand, and building SQLAlchemy's parameters for each costs more than
    storing it; in term order, so the search index takes them page by page."""
    rows = sorted(
        ((passage_id, term, collection, weight)
         for passage_id, weights in passages for term, weight in weights.items()),
        key=lambda row: (row[1], row[0]),
    )  # fmt: skip
    marks = {"qmark": "?, ?, ?, ?", "numeric_dollar": "$1, $2, $3, $4"}[conn.dialect.paramstyle]
    sql = f"INSERT INTO kb_postings (passage_id, term, collection, weight) VALUES ({marks})"
    for start in range(0, len(rows), _ROWS):
        conn.exec_driver_sql(sql, rows[start : start + _ROWS])


def remove_documents(conn: sa.Connection, document_ids: Iterable[int]) -> int:
    ids = list(document_ids)
    d = kb_documents_t.c
    counts: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for (words,) in conn.execute(sa.select(d.terms).where(d.id.in_(chunk))):
            for term in words.split():
                counts[term] = counts.get(term, 0) + 1
        conn.execute(sa.delete(kb_passages_t).where(kb_passages_t.c.document_id.in_(chunk)))
        conn.execute(sa.delete(kb_documents_t).where(d.id.in_(chunk)))
    by_count: dict[int, set[str]] = {}
    for term, count in counts.items():
        by_count.setdefault(count, set()).add(term)
    for count, gone in by_count.items():
        _count_terms(conn, set(), gone, by=count)
    return len(ids)


def _count_terms(conn: sa.Connection, added: set[str], removed: set[str], by: int = 1) -> None:
    """One more document uses each of `added`, `by` fewer each of `removed`."""
    t = kb_terms_t.c
    if added:
        insert = dialects.insert(conn.dialect.name, kb_terms_t)
        upsert = insert.on_conflict_do_update(
            index_elements=["term"], set_={"documents": t.documents + insert.excluded.documents}
        )
        conn.execute(upsert, [{"term": term, "documents": 1} for term in sorted(added)])
    ordered = sorted(removed)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        fewer = t.documents - by
        conn.execute(sa.update(kb_terms_t).where(t.term.in_(chunk)).values(documents=fewer))
        conn.execute(sa.delete(kb_terms_t).where(t.term.in_(chunk), t.documents <= 0))
