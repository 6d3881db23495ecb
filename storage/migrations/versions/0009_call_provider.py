"""calls: the provider each attempt went to; a call that answers no question (a credential
check, an embedding request) has no thread and no message

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.totals_ddl import ensure_triggers

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('provider', sa.String(length=64), nullable=True))
        batch.alter_column('thread_id', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('message_id', existing_type=sa.Integer(), nullable=True)
    ensure_triggers(op.get_bind())  # SQLite's batch mode rebuilt `calls` without them


def downgrade() -> None:
    # The older schema cannot hold a call without a question: those rows go with it.
    op.execute('DELETE FROM calls WHERE thread_id IS NULL OR message_id IS NULL')
    with op.batch_alter_table('calls') as batch:
        batch.alter_column('message_id', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('thread_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('provider')
    ensure_triggers(op.get_bind())
