"""channel_settings.strategy: a per-channel strategy override nothing could set

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel_settings') as batch:
        batch.drop_column('strategy')


def downgrade() -> None:
    with op.batch_alter_table('channel_settings') as batch:
        batch.add_column(sa.Column('strategy', sa.String(length=64), nullable=True))
