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

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TOTALS = ('nano_usd', 'calls', 'errors', 'input_tokens', 'output_tokens', 'estimated_calls',
          'unpriced_calls', 'baseline_nano_usd', 'compared_nano_usd')
# Columns of `calls` that change a total: an update of any other column fires nothing.
SUMMED = ('created_at', 'platform', 'workspace', 'channel', 'user', 'model_asked',
          'model_served', 'tier', 'strategy', 'cost_nano_usd', 'cost_source', 'status',
          'input_tokens', 'output_tokens', 'baseline_cost_nano_usd')
TABLES = {
    'model_hours': ('platform', 'workspace', 'model', 'tier', 'strategy'),
    'channel_hours': ('platform', 'workspace', 'channel'),
    'user_hours': ('platform', 'workspace', 'user'),
}
KEY_TYPES = {
    'platform': sa.String(length=32), 'workspace': sa.String(length=255),
    'channel': sa.String(length=255), 'user': sa.String(length=255),
    'model': sa.String(length=255), 'tier': sa.String(length=16), 'strategy': sa.String(length=64),
}


def _hour(dialect: str, column: str) -> str:
    if dialect == 'postgresql':
        return f"date_trunc('hour', {column}, 'UTC')"
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, see UTCDateTime).
    return f"substr({column}, 1, 13) || ':00:00.000000'"


def _keys(row: str) -> dict[str, str]:
    return {
        'platform': f'{row}.platform',
        'workspace': f'{row}.workspace',
        'channel': f'{row}.channel',
        'user': f'{row}."user"',
        'model': f'coalesce({row}.model_served, {row}.model_asked)',
        'tier': f"coalesce({row}.tier, '')",
        'strategy': f'{row}.strategy',
    }


def _measures(row: str, sign: str) -> list[str]:
    both = f'{row}.cost_nano_usd IS NOT NULL AND {row}.baseline_cost_nano_usd IS NOT NULL'
    return [
        f'{sign}coalesce({row}.cost_nano_usd, 0)',
        f'{sign}1',
        f"CASE WHEN {row}.status = 'error' THEN {sign}1 ELSE 0 END",
        f'{sign}coalesce({row}.input_tokens, 0)',
        f'{sign}coalesce({row}.output_tokens, 0)',
        f"CASE WHEN {row}.cost_source = 'estimated' THEN {sign}1 ELSE 0 END",
        f"CASE WHEN {row}.cost_source = 'unpriced' THEN {sign}1 ELSE 0 END",
        f'CASE WHEN {both} THEN {sign}{row}.baseline_cost_nano_usd ELSE 0 END',
        f'CASE WHEN {both} THEN {sign}{row}.cost_nano_usd ELSE 0 END',
    ]


def _upsert(dialect: str, table: str, row: str, sign: str) -> str:
    keys = TABLES[table]
    key_sql = [_keys(row)[k] for k in keys]
    columns = ', '.join(['hour', *(f'"{k}"' for k in keys), *TOTALS])
    values = ', '.join([_hour(dialect, f'{row}.created_at'), *key_sql, *_measures(row, sign)])
    conflict = ', '.join(['hour', *(f'"{k}"' for k in keys)])
    updates = ', '.join(f'{t} = {table}.{t} + excluded.{t}' for t in TOTALS)
    return (f'INSERT INTO {table} ({columns}) VALUES ({values}) '
            f'ON CONFLICT ({conflict}) DO UPDATE SET {updates};')


def _backfill(dialect: str, table: str) -> str:
    keys = TABLES[table]
    key_sql = [_keys('calls')[k] for k in keys]
    hour = _hour(dialect, 'calls.created_at')
    sums = ', '.join(f'sum({m})' for m in _measures('calls', ''))
    columns = ', '.join(['hour', *(f'"{k}"' for k in keys), *TOTALS])
    group = ', '.join([hour, *key_sql])
    return (f'INSERT INTO {table} ({columns}) SELECT {hour}, {", ".join(key_sql)}, {sums} '
            f'FROM calls GROUP BY {group}')


def _statements(dialect: str, row: str, sign: str) -> str:
    return '\n'.join(_upsert(dialect, table, row, sign) for table in TABLES)


def _create_triggers(dialect: str) -> None:
    summed = ', '.join(f'"{c}"' for c in SUMMED)
    if dialect == 'postgresql':
        op.execute(f"""
CREATE FUNCTION switchboard_call_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_statements(dialect, 'OLD', '-')}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_statements(dialect, 'NEW', '')}
  END IF;
  RETURN NULL;
END $$""")
        op.execute('CREATE TRIGGER calls_totals AFTER INSERT OR DELETE OR UPDATE OF '
                   f'{summed} ON calls FOR EACH ROW EXECUTE FUNCTION switchboard_call_totals()')
        return
    op.execute('CREATE TRIGGER calls_totals_insert AFTER INSERT ON calls BEGIN '
               f"{_statements(dialect, 'NEW', '')} END")
    op.execute('CREATE TRIGGER calls_totals_delete AFTER DELETE ON calls BEGIN '
               f"{_statements(dialect, 'OLD', '-')} END")
    op.execute(f'CREATE TRIGGER calls_totals_update AFTER UPDATE OF {summed} ON calls BEGIN '
               f"{_statements(dialect, 'OLD', '-')} {_statements(dialect, 'NEW', '')} END")


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
        op.execute(_backfill(dialect, table))
    _create_triggers(dialect)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER calls_totals ON calls')
        op.execute('DROP FUNCTION switchboard_call_totals()')
    else:
        for name in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER calls_totals_{name}')
    op.drop_table('budget_alerts')
    for table in TABLES:
        op.drop_table(table)
