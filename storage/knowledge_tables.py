"""The knowledge base's tables: where documents came from, the documents, their passages, each
passage's postings (the terms it uses and how strongly, for search), and the words the
documents use (for correcting misspelled questions).

The trigram index of `kb_terms` is per database and not declared here (migration 0010): on
SQLite an FTS5 `trigram` table kept by triggers (`kb_terms_trigrams`), on PostgreSQL a pg_trgm
GIN index on `kb_terms.term`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.tables import UTCDateTime, utcnow

# What the migration adds outside the models (with SQLite's FTS5 shadow tables, named after
# their table), so that schema comparisons can leave it aside.
SEARCH_TABLES = ("kb_terms_trigrams",)
SEARCH_INDEXES = ("ix_kb_terms_trigram",)


def search_machinery(name: str | None, kind: str, parent: dict[str, str | None]) -> bool:
    """True for the full-text search objects above (Alembic's `include_name` signature)."""
    if kind == "table":
        return any(name == t or (name or "").startswith(f"{t}_") for t in SEARCH_TABLES)
    return kind == "index" and name in SEARCH_INDEXES


class KnowledgeSource(SQLModel, table=True):
    """A folder or file added with `kb add`, which `kb sync` reads again."""

    __tablename__ = "kb_sources"
    __table_args__ = (sa.UniqueConstraint("collection", "root"),)

    id: int | None = Field(default=None, primary_key=True)
    collection: str = Field(max_length=128)
    root: str = Field(sa_type=sa.Text)  # absolute path
    url_base: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class KnowledgeDocument(SQLModel, table=True):
    __tablename__ = "kb_documents"
    __table_args__ = (
        sa.UniqueConstraint("collection", "path"),
        # Counting a collection's documents and passages (every search does) reads this
        # index, not the rows and their long `terms` (migration 0014).
        sa.Index("ix_kb_documents_collection_passages", "collection", "passages"),
    )

    id: int | None = Field(default=None, primary_key=True)
    collection: str = Field(max_length=128)
    source_id: int | None = Field(
        default=None, foreign_key="kb_sources.id", ondelete="CASCADE", index=True
    )
    path: str = Field(sa_type=sa.Text)  # the key: a file's absolute path, or a given name
    name: str = Field(sa_type=sa.Text)  # shown in citations without a link
    title: str = Field(sa_type=sa.Text)
    url: str | None = Field(default=None, sa_type=sa.Text)
    content_hash: str = Field(max_length=64)
    passages: int = 0
    terms: str = Field(default="", sa_type=sa.Text)  # its distinct words, space-separated
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class KnowledgePassage(SQLModel, table=True):
    __tablename__ = "kb_passages"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="kb_documents.id", ondelete="CASCADE", index=True)
    position: int
    title: str = Field(sa_type=sa.Text)  # the document's title, indexed with each passage
    headings: str = Field(sa_type=sa.Text)  # the heading path below the title, " › "-joined
    anchor: str = Field(default="", sa_type=sa.Text)
    body: str = Field(sa_type=sa.Text)
    body_hash: str = Field(max_length=64)  # the same text on several pages shows once
    stems: str = Field(default="", sa_type=sa.Text)  # the body's stems, for ranking (0011)


class KnowledgePosting(SQLModel, table=True):
    """A term a passage uses and how strongly (`storage.knowledge_postings`): a search reads
    each of its terms' best postings in a collection from the `(collection, term, weight)`
    index, whatever the knowledge base's size (migration 0014)."""

    __tablename__ = "kb_postings"
    __table_args__ = (
        sa.Index("ix_kb_postings_search", "collection", "term", "weight", "passage_id"),
        {"sqlite_with_rowid": False},  # the primary key is the table: no rowid index besides
    )

    passage_id: int = Field(
        foreign_key="kb_passages.id", ondelete="CASCADE", primary_key=True, nullable=False
    )
    term: str = Field(max_length=64, primary_key=True)
    collection: str = Field(max_length=128)  # the passage's document's
    weight: int = Field(sa_type=sa.SmallInteger)


class KnowledgeVector(SQLModel, table=True):
    """A passage's embedding, when KB_EMBEDDING_MODEL is set (`storage.knowledge_vectors`;
    migration 0015)."""

    __tablename__ = "kb_vectors"

    passage_id: int = Field(
        foreign_key="kb_passages.id", ondelete="CASCADE", primary_key=True, nullable=False
    )
    model: str = Field(max_length=255)
    text_hash: str = Field(max_length=64)  # of the text embedded: kept when it is unchanged
    vector: bytes = Field(sa_type=sa.LargeBinary)  # float32 scale, then one byte a dimension


class KnowledgeTerm(SQLModel, table=True):
    """A word the documents use and in how many documents, for spelling correction."""

    __tablename__ = "kb_terms"

    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(max_length=255, unique=True)
    documents: int = 0


class KnowledgeAnswer(SQLModel, table=True):
    """What the knowledge base gave one question: cited passages, or nothing that covered it
    (then answered anyway, or handed off to people). For the support lead's view."""

    __tablename__ = "kb_answers"
    __table_args__ = (sa.Index("ix_kb_answers_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", ondelete="CASCADE", unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    platform: str = Field(max_length=32)
    workspace: str = Field(max_length=255)
    channel: str = Field(max_length=255)
    confidence: float
    outcome: str = Field(max_length=16)  # cited | uncovered | handed_off


class KnowledgeCitation(SQLModel, table=True):
    """A page an answer cited (by title and link: they outlive re-indexing), in the order the
    answer lists them."""

    __tablename__ = "kb_citations"

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="kb_answers.id", ondelete="CASCADE", index=True)
    title: str = Field(sa_type=sa.Text)
    url: str | None = Field(default=None, sa_type=sa.Text)
    path: str = Field(sa_type=sa.Text)
    # The heading path shown in the sources line (0016; NULL before: the title is shown).
    section: str | None = Field(default=None, sa_type=sa.Text)


class KnowledgeProposal(SQLModel, table=True):
    """A thread marked solved, proposed as a knowledge entry: its question and the answer that
    solved it (the bot's, or a person's reply). An admin approves or rejects it; the decision
    is kept, so the same answer of the same thread is never proposed twice (0012)."""

    __tablename__ = "kb_proposals"
    __table_args__ = (sa.UniqueConstraint("thread_id", "answer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="threads.id", ondelete="CASCADE", index=True)
    answer_id: int = Field(foreign_key="messages.id", ondelete="CASCADE")  # the solving reply
    status: str = Field(max_length=16, index=True)  # pending | approved | rejected
    question: str = Field(sa_type=sa.Text)
    answer: str = Field(sa_type=sa.Text)
    answered_by: str = Field(default="", max_length=255)  # a person's user id; "" the bot
    url: str | None = Field(default=None, sa_type=sa.Text)  # the thread on its platform
    solved_by: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


kb_sources_t: sa.Table = KnowledgeSource.__table__  # type: ignore[attr-defined]
kb_documents_t: sa.Table = KnowledgeDocument.__table__  # type: ignore[attr-defined]
kb_passages_t: sa.Table = KnowledgePassage.__table__  # type: ignore[attr-defined]
kb_postings_t: sa.Table = KnowledgePosting.__table__  # type: ignore[attr-defined]
kb_vectors_t: sa.Table = KnowledgeVector.__table__  # type: ignore[attr-defined]
kb_terms_t: sa.Table = KnowledgeTerm.__table__  # type: ignore[attr-defined]
kb_answers_t: sa.Table = KnowledgeAnswer.__table__  # type: ignore[attr-defined]
kb_citations_t: sa.Table = KnowledgeCitation.__table__  # type: ignore[attr-defined]
kb_proposals_t: sa.Table = KnowledgeProposal.__table__  # type: ignore[attr-defined]
