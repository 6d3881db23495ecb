"""knowledge base: passage embeddings for optional semantic retrieval (KB_EMBEDDING_MODEL)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'kb_vectors',
        sa.Column('passage_id', sa.Integer(), nullable=False),
        sa.Column('model', sa.String(length=255), nullable=False),
        sa.Column('text_hash', sa.String(length=64), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['passage_id'], ['kb_passages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('passage_id'),
    )


def downgrade() -> None:
    op.drop_table('kb_vectors')
