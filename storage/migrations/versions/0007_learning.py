"""learning: shadow comparisons, router versions, and the version behind each call

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables
from storage.totals_ddl import ensure_triggers

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('router_version', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('escalated_from', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_calls_escalated_from', 'calls', ['escalated_from'], ['id'])
    ensure_triggers(op.get_bind())  # SQLite's batch mode rebuilt `calls` without them
    op.create_table('shadow_comparisons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('answered_tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('shadow_tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('shadow_model', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('shadow_call_id', sa.Integer(), nullable=True),
    sa.Column('judge_call_id', sa.Integer(), nullable=True),
    sa.Column('answered_score', sa.Integer(), nullable=True),
    sa.Column('shadow_score', sa.Integer(), nullable=True),
    sa.Column('answered_cost_nano_usd', sa.BigInteger(), nullable=True),
    sa.Column('shadow_cost_nano_usd', sa.BigInteger(), nullable=True),
    sa.Column('router_version', sa.Integer(), nullable=True),
    sa.Column('router_score', sa.Float(), nullable=True),
    sa.Column('created_at', storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['shadow_call_id'], ['calls.id'], ),
    sa.ForeignKeyConstraint(['judge_call_id'], ['calls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id')
    )
    op.create_index('ix_shadow_created', 'shadow_comparisons', ['created_at'], unique=False)
    op.create_table('router_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('base', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('metrics', sa.Text(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('adopted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('activated_at', storage.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('router_versions')
    op.drop_index('ix_shadow_created', table_name='shadow_comparisons')
    op.drop_table('shadow_comparisons')
    with op.batch_alter_table('calls') as batch:
        batch.drop_constraint('fk_calls_escalated_from', type_='foreignkey')
        batch.drop_column('escalated_from')
        batch.drop_column('router_version')
    ensure_triggers(op.get_bind())
