"""The SQL that keeps the totals (hourly: `model_hours`, `channel_hours`, `user_hours`; daily:
`user_days`) equal to `calls`: triggers that add (and on delete subtract) each row's measures to
its hour's or day's totals in the statement that writes it, and the one-off sum of existing rows.
Used by migrations 0005 and 0013, and at start-up to put the triggers back if a later migration
rebuilt `calls` without them.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from storage import quality_ddl

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
# The tables of migration 0005, by UTC hour.
HOURLY = {
    "model_hours": ("platform", "workspace", "model", "tier", "strategy"),
    "channel_hours": ("platform", "workspace", "channel"),
    "user_hours": ("platform", "workspace", "user"),
}
# By UTC day (migration 0013): a month of `user_hours` is a row per user and hour (~300,000 for
# 800 users), too many to group for a page; a month of days is ~30 times fewer.
DAILY = {"user_days": ("platform", "workspace", "user")}
TABLES = {**HOURLY, **DAILY}


def time_column(table: str) -> str:
    return "day" if table in DAILY else "hour"


def _bucket(dialect: str, table: str, column: str) -> str:
    """The start of the UTC hour (or day, for a daily table) of the timestamp `column`."""
    daily = table in DAILY
    if dialect == "postgresql":
        return f"date_trunc('{'day' if daily else 'hour'}', {column}, 'UTC')"
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, see UTCDateTime).
    if daily:
        return f"substr({column}, 1, 10) || ' 00:00:00.000000'"
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
    when = time_column(table)
    columns = ", ".join([when, *(f'"{k}"' for k in keys), *TOTALS])
    values = ", ".join([_bucket(dialect, table, f"{row}.created_at"), *key_sql,
                        *_measures(row, sign)])  # fmt: skip
    conflict = ", ".join([when, *(f'"{k}"' for k in keys)])
    updates = ", ".join(f"{t} = {table}.{t} + excluded.{t}" for t in TOTALS)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({values}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates};"
    )


def backfill_sql(dialect: str, table: str) -> str:
    keys = TABLES[table]
    key_sql = [_keys("calls")[k] for k in keys]
    bucket = _bucket(dialect, table, "calls.created_at")
    sums = ", ".join(f"sum({m})" for m in _measures("calls", ""))
    columns = ", ".join([time_column(table), *(f'"{k}"' for k in keys), *TOTALS])
    group = ", ".join([bucket, *key_sql])
    return (
        f"INSERT INTO {table} ({columns}) SELECT {bucket}, {', '.join(key_sql)}, {sums} "
        f"FROM calls GROUP BY {group}"
    )


def _statements(dialect: str, tables: Iterable[str], row: str, sign: str) -> str:
    return "\n".join(_upsert(dialect, table, row, sign) for table in tables)


def trigger_ddl(dialect: str, tables: Iterable[str] = TABLES) -> list[str]:
    """CREATE statements of the triggers (and, on PostgreSQL, their function) that keep
    `tables` (each migration names the ones it knew)."""
    summed = ", ".join(f'"{c}"' for c in SUMMED)
    tables = tuple(tables)
    if dialect == "postgresql":
        return [
            f"""
CREATE OR REPLACE FUNCTION switchboard_call_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_statements(dialect, tables, "OLD", "-")}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_statements(dialect, tables, "NEW", "")}
  END IF;
  RETURN NULL;
END $$""",
            "CREATE TRIGGER calls_totals AFTER INSERT OR DELETE OR UPDATE OF "
            f"{summed} ON calls FOR EACH ROW EXECUTE FUNCTION switchboard_call_totals()",
        ]
    return [
        "CREATE TRIGGER calls_totals_insert AFTER INSERT ON calls BEGIN "
        f"{_statements(dialect, tables, 'NEW', '')} END",
        "CREATE TRIGGER calls_totals_delete AFTER DELETE ON calls BEGIN "
        f"{_statements(dialect, tables, 'OLD', '-')} END",
        f"CREATE TRIGGER calls_totals_update AFTER UPDATE OF {summed} ON calls BEGIN "
        f"{_statements(dialect, tables, 'OLD', '-')} {_statements(dialect, tables, 'NEW', '')} END",
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
    """Whether `calls` still has its totals triggers, and its quality triggers once there is a
    `quality_hours` (a migration that rebuilds `calls` on SQLite, as batch mode does for a new
    constraint, drops them with the old table)."""
    if not _totals_present(connection):
        return False
    if not sa.inspect(connection).has_table("quality_hours"):
        return True
    return quality_ddl.calls_triggers_present(connection)


def _totals_present(connection: sa.Connection) -> bool:
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
    """Recreate the triggers on `calls` if a migration dropped them; True when it had to. The
    totals stay exact: a rebuilt table is filled by a copy that fires no trigger, and nothing
    else can write calls inside the migration's transaction."""
    inspector = sa.inspect(connection)
    dialect = connection.dialect.name
    if not inspector.has_table("model_hours"):
        return False
    statements = []
    if not _totals_present(connection):
        # A migration before 0013 (rebuilding `calls`) puts back the triggers of its tables.
        tables = [table for table in TABLES if inspector.has_table(table)]
        statements += [*drop_trigger_ddl(dialect), *trigger_ddl(dialect, tables)]
    if inspector.has_table("quality_hours") and not quality_ddl.calls_triggers_present(
        connection
    ):
        calls = ("calls",)
        statements += [*quality_ddl.drop_trigger_ddl(dialect, calls),
                       *quality_ddl.trigger_ddl(dialect, calls)]  # fmt: skip
    for statement in statements:
        connection.execute(sa.text(statement))
    return bool(statements)
