"""knowledge base: sources, documents, passages, terms, and their full-text indexes

SQLite: an FTS5 table over kb_passages (porter stemming, accents folded; triggers keep it in
step), and a trigram FTS5 table over kb_terms for misspelled words. PostgreSQL: a weighted
tsvector generated column with a GIN index, and pg_trgm's GIN index on kb_terms.term when the
extension can be created (without it, questions are not corrected for spelling).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE kb_passages_fts USING fts5(title, headings, body, "
    "content='kb_passages', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_passages_fts_insert AFTER INSERT ON kb_passages BEGIN "
    "INSERT INTO kb_passages_fts(rowid, title, headings, body) "
    "VALUES (new.id, new.title, new.headings, new.body); END",
    "CREATE TRIGGER kb_passages_fts_delete AFTER DELETE ON kb_passages BEGIN "
    "INSERT INTO kb_passages_fts(kb_passages_fts, rowid, title, headings, body) "
    "VALUES ('delete', old.id, old.title, old.headings, old.body); END",
    "CREATE VIRTUAL TABLE kb_terms_trigrams USING fts5(term, content='kb_terms', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER kb_terms_trigrams_insert AFTER INSERT ON kb_terms BEGIN "
    "INSERT INTO kb_terms_trigrams(rowid, term) VALUES (new.id, new.term); END",
    "CREATE TRIGGER kb_terms_trigrams_delete AFTER DELETE ON kb_terms BEGIN "
    "INSERT INTO kb_terms_trigrams(kb_terms_trigrams, rowid, term) "
    "VALUES ('delete', old.id, old.term); END",
)
POSTGRES_SEARCH = (
    "ALTER TABLE kb_passages ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', headings), 'B') || "
    "setweight(to_tsvector('english', body), 'D')) STORED",
    "CREATE INDEX ix_kb_passages_search ON kb_passages USING gin (search)",
)
TRIGRAM_SCHEMA = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_trgm'"
)


def upgrade() -> None:
    op.create_table(
        'kb_sources',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('collection', sa.String(length=128), nullable=False),
        sa.Column('root', sa.Text(), nullable=False),
        sa.Column('url_base', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('collection', 'root'),
    )
    op.create_table(
        'kb_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('collection', sa.String(length=128), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=True),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('passages', sa.Integer(), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['kb_sources.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('collection', 'path'),
    )
    op.create_index('ix_kb_documents_source_id', 'kb_documents', ['source_id'])
    op.create_table(
        'kb_passages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('headings', sa.Text(), nullable=False),
        sa.Column('anchor', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['kb_documents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_kb_passages_document_id', 'kb_passages', ['document_id'])
    op.create_table(
        'kb_terms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('term', sa.String(length=255), nullable=False),
        sa.Column('documents', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('term'),
    )
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_SEARCH:
            op.execute(statement)
        return
    for statement in POSTGRES_SEARCH:
        op.execute(statement)
    _trigram_index()


def _trigram_index() -> None:
    bind = op.get_bind()
    schema = bind.scalar(sa.text(TRIGRAM_SCHEMA))
    if schema is None:
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
        except sa.exc.DBAPIError as error:  # no right to, or another replica did it first
            log.warning("pg_trgm not created (%s): questions will not be spell-corrected",
                        str(error).splitlines()[0])
        schema = bind.scalar(sa.text(TRIGRAM_SCHEMA))
    if schema is not None:
        quoted = bind.dialect.identifier_preparer.quote(schema)
        op.execute(f"CREATE INDEX ix_kb_terms_trigram ON kb_terms USING gin "
                   f"(term {quoted}.gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE kb_terms_trigrams")
        op.execute("DROP TABLE kb_passages_fts")
    op.drop_table('kb_terms')
    op.drop_table('kb_passages')
    op.drop_table('kb_documents')
    op.drop_table('kb_sources')
