"""The call ledger as `switchboard report` exports it: one row per call attempt, every column of
the ledger plus its local time and cost in dollars. The dashboard's "all calls" download writes
the same rows, byte for byte."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage.ledger import LEDGER_COLUMNS

REPORT_COLUMNS = (*LEDGER_COLUMNS, "local_time", "cost_usd")


def spreadsheet_safe(text: str) -> str:
    """Channel and user names come from outside: one starting like a formula is quoted, so a
    spreadsheet shows it instead of running it."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_row(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """One `Ledger.export` row, with times as ISO text (UTC and local) and the cost in USD;
    text that starts like a spreadsheet formula is quoted (`spreadsheet_safe`)."""
    created: datetime = row["created_at"]
    nano = row["cost_nano_usd"]
    return {
        **{k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in row.items()},
        "created_at": created.isoformat(),
        "local_time": created.astimezone(zone).isoformat(),
        "cost_usd": None if nano is None else f"{nano / 1e9:.9f}",
    }
