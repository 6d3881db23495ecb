"""calls: cache read, cache write and reasoning token counts (why a call cost what it did)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = ('cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens')


def upgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
