"""knowledge base: a citation's section (heading path), so an answer posted after a crash shows
the same sources line as one posted live

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kb_citations') as batch:
        batch.add_column(sa.Column('section', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kb_citations') as batch:
        batch.drop_column('section')
