"""knowledge base: what each question was given (cited, uncovered, handed off), the pages cited,
and each passage's stems (ranked without re-stemming its text at every question)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'kb_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=255), nullable=False),
        sa.Column('channel', sa.String(length=255), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id'),
    )
    op.create_index('ix_kb_answers_created_at', 'kb_answers', ['created_at'])
    op.create_table(
        'kb_citations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('path', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['kb_answers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_kb_citations_answer_id', 'kb_citations', ['answer_id'])
    # A plain ADD COLUMN (not a batch rebuild): SQLite's FTS triggers stay on the table.
    op.add_column('kb_passages', sa.Column('stems', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    op.execute("ALTER TABLE kb_passages DROP COLUMN stems")  # no rebuild (FTS triggers)
    op.drop_table('kb_citations')
    op.drop_table('kb_answers')
