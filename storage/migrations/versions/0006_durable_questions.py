"""durable answering: a question's state, lease, reply address, half-written message and call
in flight; a unique key per call attempt for idempotent retried writes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables
from storage.totals_ddl import ensure_triggers

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('state', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('lease_until', storage.tables.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('owner', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('origin', sa.Text(), nullable=True))
        batch.add_column(sa.Column('checkpoint', sa.Text(), nullable=True))
        batch.add_column(sa.Column('pending', sa.Text(), nullable=True))
        batch.create_index('ix_messages_state', ['state'], unique=False)
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('key', sa.String(length=32), nullable=True))
        batch.create_unique_constraint('uq_calls_key', ['key'])
    ensure_triggers(op.get_bind())  # SQLite's batch mode rebuilt `calls` without them


def downgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.drop_constraint('uq_calls_key', type_='unique')
        batch.drop_column('key')
    ensure_triggers(op.get_bind())
    with op.batch_alter_table('messages') as batch:
        batch.drop_index('ix_messages_state')
        for column in ('pending', 'checkpoint', 'origin', 'owner', 'lease_until', 'state'):
            batch.drop_column(column)
