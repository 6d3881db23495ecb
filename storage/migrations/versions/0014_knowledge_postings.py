"""knowledge base: impact-ordered postings replace the full-text index of passages

Each passage's terms with their weights (kb_postings, indexed by collection, term and weight),
derived here for the passages already indexed. A search reads only each term's best postings,
so its time no longer grows with the knowledge base (SQLite's FTS5 bm25 and PostgreSQL's
ts_rank_cd ranked every passage that matched). The full-text index of passages goes: SQLite's
kb_passages_fts with its triggers, PostgreSQL's `search` column and its GIN index. The trigram
index of kb_terms (spelling correction) stays. An index counts a collection's documents and
passages without reading the documents' rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from storage.knowledge import write_postings
from storage.knowledge_postings import postings, terms

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BATCH = 1_000  # passages read, weighed and written at a time


def upgrade() -> None:
    op.create_table(
        'kb_postings',
        sa.Column('passage_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.String(length=64), nullable=False),
        sa.Column('collection', sa.String(length=128), nullable=False),
        sa.Column('weight', sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(['passage_id'], ['kb_passages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('passage_id', 'term'),
        sqlite_with_rowid=False,
    )
    op.create_index(
        'ix_kb_postings_search', 'kb_postings', ['collection', 'term', 'weight', 'passage_id']
    )
    op.create_index(
        'ix_kb_documents_collection_passages', 'kb_documents', ['collection', 'passages']
    )
    _derive(op.get_bind())
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER kb_passages_fts_insert")
        op.execute("DROP TRIGGER kb_passages_fts_delete")
        op.execute("DROP TABLE kb_passages_fts")
    else:
        op.execute("DROP INDEX ix_kb_passages_search")
        op.execute("ALTER TABLE kb_passages DROP COLUMN search")


def _derive(bind: sa.Connection) -> None:
    """The postings of every passage already indexed, a batch at a time."""
    query = sa.text(
        "SELECT p.id, d.collection, d.title, p.headings, p.body FROM kb_passages p "
        "JOIN kb_documents d ON d.id = p.document_id WHERE p.id > :after ORDER BY p.id "
        "LIMIT :n"
    )
    after = 0
    while rows := bind.execute(query, {"after": after, "n": BATCH}).all():
        by_collection: dict[str, list[tuple[int, dict[str, int]]]] = {}
        for passage_id, collection, title, headings, body in rows:
            weights = postings(terms(title), headings.split(" › "), terms(body))
            by_collection.setdefault(collection, []).append((passage_id, weights))
        for collection, weighed in by_collection.items():
            write_postings(bind, collection, weighed)
        after = rows[-1][0]


def downgrade() -> None:
    """0010's full-text index of passages again, filled from the passages."""
    created = context.script.get_revision('0010').module
    if op.get_bind().dialect.name == 'sqlite':
        for statement in created.SQLITE_SEARCH[:3]:  # the passages' table and its triggers
            op.execute(statement)
        op.execute("INSERT INTO kb_passages_fts(kb_passages_fts) VALUES ('rebuild')")
    else:
        for statement in created.POSTGRES_SEARCH:
            op.execute(statement)
    op.drop_index('ix_kb_documents_collection_passages', table_name='kb_documents')
    op.drop_index('ix_kb_postings_search', table_name='kb_postings')
    op.drop_table('kb_postings')
