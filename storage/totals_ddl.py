"""The SQL that keeps the hourly totals (`model_hours`, `channel_hours`, `user_hours`) equal to
`calls`: triggers that add (and on delete subtract) each row's measures to its hour's totals in
the statement that writes it, and the one-off sum of existing rows. Used by migration 0005, and
at start-up to put the triggers back if a later migration rebuilt `calls` without them.
"""

from __future__ import annotations

import sqlalchemy as sa

TOTALS = (
    "nano_usd",
    "calls",
    "errors",
    "input_tokens",
    "output_tokens",
    "estimated_calls",
    "unpriced_calls",
    "baseline_nano_usd",
    "compared_nano_usd",
)
# Columns of `calls` that change a total: an update of any other column fires nothing.
SUMMED = (
    "created_at",
    "platform",
    "workspace",
    "channel",
    "user",
    "model_asked",
    "model_served",
    "tier",
    "strategy",
    "cost_nano_usd",
    "cost_source",
    "status",
    "input_tokens",
    "output_tokens",
    "baseline_cost_nano_usd",
)
TABLES = {
    "model_hours": ("platform", "workspace", "model", "tier", "strategy"),
    "channel_hours": ("platform", "workspace", "channel"),
    "user_hours": ("platform", "workspace", "user"),
}


def _hour(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"date_trunc('hour', {column}, 'UTC')"
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, see UTCDateTime).
    return f"substr({column}, 1, 13) || ':00:00.000000'"


def _keys(row: str) -> dict[str, str]:
    return {
        "platform": f"{row}.platform",
        "workspace": f"{row}.workspace",
        "channel": f"{row}.channel",
        "user": f'{row}."user"',
        "model": f"coalesce({row}.model_served, {row}.model_asked)",
        "tier": f"coalesce({row}.tier, '')",
        "strategy": f"{row}.strategy",
    }


def _measures(row: str, sign: str) -> list[str]:
    both = f"{row}.cost_nano_usd IS NOT NULL AND {row}.baseline_cost_nano_usd IS NOT NULL"
    return [
        f"{sign}coalesce({row}.cost_nano_usd, 0)",
        f"{sign}1",
        f"CASE WHEN {row}.status = 'error' THEN {sign}1 ELSE 0 END",
        f"{sign}coalesce({row}.input_tokens, 0)",
        f"{sign}coalesce({row}.output_tokens, 0)",
        f"CASE WHEN {row}.cost_source = 'estimated' THEN {sign}1 ELSE 0 END",
        f"CASE WHEN {row}.cost_source = 'unpriced' THEN {sign}1 ELSE 0 END",
        f"CASE WHEN {both} THEN {sign}{row}.baseline_cost_nano_usd ELSE 0 END",
        f"CASE WHEN {both} THEN {sign}{row}.cost_nano_usd ELSE 0 END",
    ]


def _upsert(dialect: str, table: str, row: str, sign: str) -> str:
    keys = TABLES[table]
    key_sql = [_keys(row)[k] for k in keys]
    columns = ", ".join(["hour", *(f'"{k}"' for k in keys), *TOTALS])
    values = ", ".join([_hour(dialect, f"{row}.created_at"), *key_sql, *_measures(row, sign)])
    conflict = ", ".join(["hour", *(f'"{k}"' for k in keys)])
    updates = ", ".join(f"{t} = {table}.{t} + excluded.{t}" for t in TOTALS)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({values}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates};"
    )


def backfill_sql(dialect: str, table: str) -> str:
    keys = TABLES[table]
    key_sql = [_keys("calls")[k] for k in keys]
    hour = _hour(dialect, "calls.created_at")
    sums = ", ".join(f"sum({m})" for m in _measures("calls", ""))
    columns = ", ".join(["hour", *(f'"{k}"' for k in keys), *TOTALS])
    group = ", ".join([hour, *key_sql])
    return (
        f"INSERT INTO {table} ({columns}) SELECT {hour}, {', '.join(key_sql)}, {sums} "
        f"FROM calls GROUP BY {group}"
    )


def _statements(dialect: str, row: str, sign: str) -> str:
    return "\n".join(_upsert(dialect, table, row, sign) for table in TABLES)


def trigger_ddl(dialect: str) -> list[str]:
    """CREATE statements of the triggers (and, on PostgreSQL, their function)."""
    summed = ", ".join(f'"{c}"' for c in SUMMED)
    if dialect == "postgresql":
        return [
            f"""
CREATE OR REPLACE FUNCTION switchboard_call_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_statements(dialect, "OLD", "-")}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_statements(dialect, "NEW", "")}
  END IF;
  RETURN NULL;
END $$""",
            "CREATE TRIGGER calls_totals AFTER INSERT OR DELETE OR UPDATE OF "
            f"{summed} ON calls FOR EACH ROW EXECUTE FUNCTION switchboard_call_totals()",
        ]
    return [
        "CREATE TRIGGER calls_totals_insert AFTER INSERT ON calls BEGIN "
        f"{_statements(dialect, 'NEW', '')} END",
        "CREATE TRIGGER calls_totals_delete AFTER DELETE ON calls BEGIN "
        f"{_statements(dialect, 'OLD', '-')} END",
        f"CREATE TRIGGER calls_totals_update AFTER UPDATE OF {summed} ON calls BEGIN "
        f"{_statements(dialect, 'OLD', '-')} {_statements(dialect, 'NEW', '')} END",
    ]


def drop_trigger_ddl(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS calls_totals ON calls",
            "DROP FUNCTION IF EXISTS switchboard_call_totals()",
        ]
    return [
        f"DROP TRIGGER IF EXISTS calls_totals_{name}" for name in ("insert", "delete", "update")
    ]


def triggers_present(connection: sa.Connection) -> bool:
    """Whether `calls` still has its totals triggers (a migration that rebuilds `calls` on
    SQLite, as batch mode does for a new constraint, drops them with the old table)."""
    if connection.dialect.name == "postgresql":
        query = (
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'calls_totals'"
            " AND tgrelid = to_regclass('calls')"
        )
        return bool(connection.execute(sa.text(query)).scalar())
    query = (
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        " AND tbl_name = 'calls' AND name LIKE 'calls_totals_%'"
    )
    return connection.execute(sa.text(query)).scalar() == 3


def ensure_triggers(connection: sa.Connection) -> bool:
    """Recreate the triggers if a migration dropped them; True when it had to. The totals stay
    exact: a rebuilt table is filled by a copy that fires no trigger, and nothing else can
    write calls inside the migration's transaction."""
    if not sa.inspect(connection).has_table("model_hours") or triggers_present(connection):
        return False
    for statement in drop_trigger_ddl(connection.dialect.name):
        connection.execute(sa.text(statement))
    for statement in trigger_ddl(connection.dialect.name):
        connection.execute(sa.text(statement))
    return True
