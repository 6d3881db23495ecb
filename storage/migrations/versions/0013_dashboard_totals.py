"""dashboard totals: user_days (daily spend totals by user) and quality_hours (first answers,
judge scores and votes by hour, tier and purpose), kept by triggers; indexes for a question's
calls and a period's escalations

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

Over a month of 1M calls the user breakdown grouped ~300,000 `user_hours` rows (0.3-0.4 s) and
the quality page counted raw calls, judgements and votes (1-1.2 s). Existing rows are summed
once here.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage import quality_ddl, totals_ddl

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TOTALS = ('model_hours', 'channel_hours', 'user_hours', 'user_days')
MEASURES = (
    ('nano_usd', sa.BigInteger()), ('calls', sa.Integer()), ('errors', sa.Integer()),
    ('input_tokens', sa.BigInteger()), ('output_tokens', sa.BigInteger()),
    ('estimated_calls', sa.Integer()), ('unpriced_calls', sa.Integer()),
    ('baseline_nano_usd', sa.BigInteger()), ('compared_nano_usd', sa.BigInteger()),
)
QUALITY = (
    ('calls', sa.Integer()), ('first_answers', sa.Integer()), ('judged', sa.Integer()), ('judge_sum', sa.BigInteger()),
    ('judge_sum_squares', sa.BigInteger()), ('thumbs_up', sa.Integer()),
    ('thumbs_down', sa.Integer()),
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':  # no row may slip between the sums and the new triggers
        op.execute('LOCK TABLE calls, judgements, feedback IN SHARE ROW EXCLUSIVE MODE')
    op.create_table(
        'user_days',
        sa.Column('day', sa.DateTime(timezone=True), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=255), nullable=False),
        sa.Column('user', sa.String(length=255), nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in MEASURES),
        sa.PrimaryKeyConstraint('day', 'platform', 'workspace', 'user'),
    )
    op.create_table(
        'quality_hours',
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tier', sa.String(length=16), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in QUALITY),
        sa.PrimaryKeyConstraint('hour', 'tier', 'purpose'),
    )
    op.create_index('ix_calls_message', 'calls', ['message_id'])
    op.create_index('ix_calls_escalations', 'calls', ['created_at'],
                    sqlite_where=sa.text('escalation = 1'),
                    postgresql_where=sa.text('escalation'))
    op.execute(totals_ddl.backfill_sql(dialect, 'user_days'))
    op.execute(quality_ddl.backfill_sql(dialect))
    for statement in totals_ddl.drop_trigger_ddl(dialect):
        op.execute(statement)
    for statement in totals_ddl.trigger_ddl(dialect, TOTALS):
        op.execute(statement)
    for statement in quality_ddl.trigger_ddl(dialect):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in quality_ddl.drop_trigger_ddl(dialect):
        op.execute(statement)
    for statement in totals_ddl.drop_trigger_ddl(dialect):
        op.execute(statement)
    for statement in totals_ddl.trigger_ddl(dialect, TOTALS[:3]):
        op.execute(statement)
    op.drop_index('ix_calls_escalations', 'calls')
    op.drop_index('ix_calls_message', 'calls')
    op.drop_table('quality_hours')
    op.drop_table('user_days')
