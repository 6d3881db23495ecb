"""The SQL that keeps `quality_hours` equal to the raw rows: per UTC hour, tier and purpose of
the calls, how many there were, their first answers (successful, not themselves an
escalation), the judge's scores of them (count, sum, sum of squares) and users' votes on them.

Triggers on `calls`, `judgements` and `feedback` add (and on delete subtract) each row's part in
the statement that writes it, like the spend totals (storage/totals_ddl.py): a judgement or a
vote lands in the hour of the call it is about, and a call that moves (its tier or time
changes) takes its scores and votes along. Used by migration 0013, and at start-up to put the
triggers on `calls` back if a later migration rebuilt `calls` without them.
"""

from __future__ import annotations

import sqlalchemy as sa

MEASURES = ("calls", "first_answers", "judged", "judge_sum", "judge_sum_squares", "thumbs_up",
            "thumbs_down")  # fmt: skip
# Columns of `calls` that move a call's part: an update of any other fires nothing.
CALL_COLUMNS = ("created_at", "tier", "purpose", "status", "escalation")
SOURCES = ("calls", "judgements", "feedback")


def _hour(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"date_trunc('hour', {column}, 'UTC')"
    return f"substr({column}, 1, 13) || ':00:00.000000'"  # UTCDateTime's text on SQLite


def _upsert(select: str) -> str:
    columns = ", ".join(("hour", "tier", "purpose", *MEASURES))
    updates = ", ".join(f"{m} = quality_hours.{m} + excluded.{m}" for m in MEASURES)
    return (
        f"INSERT INTO quality_hours ({columns}) {select} "
        f"ON CONFLICT (hour, tier, purpose) DO UPDATE SET {updates};"
    )


def _if(condition: str, sign: str) -> str:
    return f"CASE WHEN {condition} THEN {sign}1 ELSE 0 END"


def _call_part(dialect: str, row: str, sign: str) -> str:
    """A call row's whole part: itself as a first answer, and the scores and votes on it."""
    first = f"{row}.status = 'ok' AND NOT {row}.escalation"
    scores = f"FROM judgements WHERE judgements.call_id = {row}.id"
    votes = f"FROM feedback WHERE feedback.call_id = {row}.id"
    values = [
        _hour(dialect, f"{row}.created_at"),
        f"coalesce({row}.tier, '')",
        f"{row}.purpose",
        f"{sign}1",
        _if(first, sign),
        f"{sign}(SELECT count(score) {scores})",
        f"{sign}(SELECT coalesce(sum(score), 0) {scores})",
        f"{sign}(SELECT coalesce(sum(score * score), 0) {scores})",
        f"{sign}(SELECT count(*) {votes} AND feedback.value > 0)",
        f"{sign}(SELECT count(*) {votes} AND feedback.value < 0)",
    ]
    return _upsert(f"SELECT {', '.join(values)} WHERE true")  # WHERE: SQLite's upsert syntax


def _about_call(dialect: str, row: str, measures: list[str]) -> str:
    """A judgement's or vote's part, in the hour, tier and purpose of the call it is about."""
    values = [_hour(dialect, "c.created_at"), "coalesce(c.tier, '')", "c.purpose", *measures]
    return _upsert(f"SELECT {', '.join(values)} FROM calls c WHERE c.id = {row}.call_id")


def _part(dialect: str, source: str, row: str, sign: str) -> str:
    if source == "calls":
        return _call_part(dialect, row, sign)
    if source == "judgements":
        scored = f"{row}.score IS NOT NULL"
        return _about_call(dialect, row, ["0", "0", _if(scored, sign),
                                          f"{sign}coalesce({row}.score, 0)",
                                          f"{sign}coalesce({row}.score * {row}.score, 0)",
                                          "0", "0"])  # fmt: skip
    return _about_call(dialect, row, ["0", "0", "0", "0", "0", _if(f"{row}.value > 0", sign),
                                      _if(f"{row}.value < 0", sign)])  # fmt: skip


def _watched(source: str) -> str:
    columns = {"calls": CALL_COLUMNS, "judgements": ("call_id", "score"),
               "feedback": ("call_id", "value")}[source]  # fmt: skip
    return ", ".join(f'"{c}"' for c in columns)


def trigger_ddl(dialect: str, sources: tuple[str, ...] = SOURCES) -> list[str]:
    """CREATE statements of the triggers on `sources` (and, on PostgreSQL, their functions)."""
    statements = []
    for source in sources:
        old, new = _part(dialect, source, "OLD", "-"), _part(dialect, source, "NEW", "")
        if dialect == "postgresql":
            statements += [
                f"""
CREATE OR REPLACE FUNCTION switchboard_{source}_quality() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {old}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {new}
  END IF;
  RETURN NULL;
END $$""",
                f"CREATE TRIGGER {source}_quality AFTER INSERT OR DELETE OR UPDATE OF "
                f"{_watched(source)} ON {source} FOR EACH ROW EXECUTE FUNCTION "
                f"switchboard_{source}_quality()",
            ]
            continue
        statements += [
            f"CREATE TRIGGER {source}_quality_insert AFTER INSERT ON {source} BEGIN {new} END",
            f"CREATE TRIGGER {source}_quality_delete AFTER DELETE ON {source} BEGIN {old} END",
            f"CREATE TRIGGER {source}_quality_update AFTER UPDATE OF {_watched(source)} "
            f"ON {source} BEGIN {old} {new} END",
        ]
    return statements


def drop_trigger_ddl(dialect: str, sources: tuple[str, ...] = SOURCES) -> list[str]:
    if dialect == "postgresql":
        return [statement for source in sources for statement in (
            f"DROP TRIGGER IF EXISTS {source}_quality ON {source}",
            f"DROP FUNCTION IF EXISTS switchboard_{source}_quality()",
        )]  # fmt: skip
    return [f"DROP TRIGGER IF EXISTS {source}_quality_{event}"
            for source in sources for event in ("insert", "delete", "update")]  # fmt: skip


def backfill_sql(dialect: str) -> str:
    """The sums of the rows already there (run before the triggers exist)."""
    hour = _hour(dialect, "c.created_at")
    scores = "SELECT call_id, count(score) AS n, sum(score) AS s, sum(score * score) AS q " \
        "FROM judgements GROUP BY call_id"  # fmt: skip
    votes = "SELECT call_id, count(*) FILTER (WHERE value > 0) AS up, " \
        "count(*) FILTER (WHERE value < 0) AS down FROM feedback GROUP BY call_id"  # fmt: skip
    columns = ", ".join(("hour", "tier", "purpose", *MEASURES))
    return (
        f"INSERT INTO quality_hours ({columns}) SELECT {hour}, coalesce(c.tier, ''), c.purpose, "
        f"count(*), count(*) FILTER (WHERE c.status = 'ok' AND NOT c.escalation), "
        f"coalesce(sum(j.n), 0), coalesce(sum(j.s), 0), coalesce(sum(j.q), 0), "
        f"coalesce(sum(v.up), 0), coalesce(sum(v.down), 0) "
        f"FROM calls c LEFT JOIN ({scores}) j ON j.call_id = c.id "
        f"LEFT JOIN ({votes}) v ON v.call_id = c.id "
        f"GROUP BY {hour}, coalesce(c.tier, ''), c.purpose"
    )


def calls_triggers_present(connection: sa.Connection) -> bool:
    """Whether `calls` still has its quality trigger(s) (see totals_ddl.triggers_present)."""
    if connection.dialect.name == "postgresql":
        query = (
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'calls_quality'"
            " AND tgrelid = to_regclass('calls')"
        )
        return bool(connection.execute(sa.text(query)).scalar())
    query = (
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        " AND tbl_name = 'calls' AND name LIKE 'calls_quality_%'"
    )
    return connection.execute(sa.text(query)).scalar() == 3
