"""model_hours, channel_hours, user_hours: hourly ledger totals kept by triggers; budget_alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

The totals are written by triggers on `calls` (insert, delete, and updates of the columns they
sum), inside the statement that writes the call row: they cannot drift from the raw rows,
whoever writes them (the bot, a spool, a test, psql), and need no second write in the
application. Existing rows are summed once here.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.totals_ddl import HOURLY as TABLES
from storage.totals_ddl import backfill_sql, drop_trigger_ddl, trigger_ddl

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KEY_TYPES = {
    'platform': sa.String(length=32), 'workspace': sa.String(length=255),
    'channel': sa.String(length=255), 'user': sa.String(length=255),
    'model': sa.String(length=255), 'tier': sa.String(length=16), 'strategy': sa.String(length=64),
}


def _totals_columns() -> list[sa.Column]:
    return [
        sa.Column('nano_usd', sa.BigInteger(), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('input_tokens', sa.BigInteger(), nullable=False),
        sa.Column('output_tokens', sa.BigInteger(), nullable=False),
        sa.Column('estimated_calls', sa.Integer(), nullable=False),
        sa.Column('unpriced_calls', sa.Integer(), nullable=False),
        sa.Column('baseline_nano_usd', sa.BigInteger(), nullable=False),
        sa.Column('compared_nano_usd', sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    for table, keys in TABLES.items():
        op.create_table(
            table,
            sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
            *(sa.Column(key, KEY_TYPES[key], nullable=False) for key in keys),
            *_totals_columns(),
            sa.PrimaryKeyConstraint('hour', *keys),
        )
    op.create_table(
        'budget_alerts',
        sa.Column('budget', sa.String(length=255), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('budget', 'period'),
    )
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        op.execute(backfill_sql(dialect, table))
    for statement in trigger_ddl(dialect, TABLES):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('budget_alerts')
    for table in TABLES:
        op.drop_table(table)
