"""user_days: daily ledger totals by user, kept by the same triggers as the hourly ones

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

A month of `user_hours` is a row per user and hour (~300,000 for 800 users): the dashboard's
user breakdown grouped them in 0.3-0.4 s. The whole days of a window are now read per day.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.totals_ddl import backfill_sql, drop_trigger_ddl, trigger_ddl

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ('model_hours', 'channel_hours', 'user_hours', 'user_days')


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':  # no call row may slip between the sum and the new triggers
        op.execute('LOCK TABLE calls IN SHARE ROW EXCLUSIVE MODE')
    op.create_table(
        'user_days',
        sa.Column('day', sa.DateTime(timezone=True), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=255), nullable=False),
        sa.Column('user', sa.String(length=255), nullable=False),
        sa.Column('nano_usd', sa.BigInteger(), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('input_tokens', sa.BigInteger(), nullable=False),
        sa.Column('output_tokens', sa.BigInteger(), nullable=False),
        sa.Column('estimated_calls', sa.Integer(), nullable=False),
        sa.Column('unpriced_calls', sa.Integer(), nullable=False),
        sa.Column('baseline_nano_usd', sa.BigInteger(), nullable=False),
        sa.Column('compared_nano_usd', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'platform', 'workspace', 'user'),
    )
    op.execute(backfill_sql(dialect, 'user_days'))
    for statement in drop_trigger_ddl(dialect):
        op.execute(statement)
    for statement in trigger_ddl(dialect, TABLES):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_trigger_ddl(dialect):
        op.execute(statement)
    for statement in trigger_ddl(dialect, TABLES[:3]):
        op.execute(statement)
    op.drop_table('user_days')
