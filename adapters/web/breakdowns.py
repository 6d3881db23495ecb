"""Spend grouped by one dimension over a period: sortable rows, and the same rows as CSV.

The dimensions are the ledger's (`storage.rollups.Dimension`): one the ledger gains (a router
version, say) appears here with no change, after the preferred ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import get_args

from adapters.ledger_export import spreadsheet_safe
from adapters.web.periods import Period
from storage.ledger import Ledger
from storage.rollups import Dimension, Rollup

PREFERRED: tuple[Dimension, ...] = ("channel", "model", "tier", "user", "platform", "strategy")
# Days are the overview's chart; threads are the Decisions page (one row each would be a dump).
ELSEWHERE = ("day", "thread")
BREAKDOWNS: tuple[Dimension, ...] = (
    *PREFERRED,
    *(d for d in get_args(Dimension) if d not in PREFERRED and d not in ELSEWHERE),
)
SHOWN_ROWS = 200  # the page shows the first rows in the chosen order; the CSV has them all


@dataclass(frozen=True)
class Column:
    name: str  # query value and CSV header stem
    title: str
    value: Callable[[Rollup], int | str]
    money: bool = False


COLUMNS = (
    Column("spend", "Spend", lambda g: g.nano_usd, money=True),
    Column("calls", "Calls", lambda g: g.calls),
    Column("errors", "Errors", lambda g: g.errors),
    Column("unpriced", "Unpriced", lambda g: g.unpriced_calls),
    Column("estimated", "Estimated", lambda g: g.estimated_calls),
    Column("baseline", "Baseline", lambda g: g.baseline_nano_usd, money=True),
    Column("saved", "Saved", lambda g: g.savings_nano_usd, money=True),
    Column("tokens_in", "Tokens in", lambda g: g.input_tokens),
    Column("tokens_out", "Tokens out", lambda g: g.output_tokens),
)
SORTS = ("key", *(c.name for c in COLUMNS))


@dataclass(frozen=True)
class Breakdown:
    by: Dimension
    period: Period
    sort: str
    descending: bool
    rows: tuple[Rollup, ...]  # every group, in the chosen order

    @property
    def total_nano_usd(self) -> int:
        return sum(r.nano_usd for r in self.rows)

    @property
    def total_calls(self) -> int:
        return sum(r.calls for r in self.rows)

    @property
    def shown(self) -> tuple[Rollup, ...]:
        return self.rows[:SHOWN_ROWS]


def dimension_title(by: str) -> str:
    return by.replace("_", " ")


def sort_rows(rows: Sequence[Rollup], sort: str, descending: bool) -> list[Rollup]:
    if sort == "key":
        return sorted(rows, key=lambda g: g.key[0], reverse=descending)
    column = next(c for c in COLUMNS if c.name == sort)
    # Ties keep a stable, readable order: by key.
    ordered = sorted(rows, key=lambda g: g.key[0])
    return sorted(ordered, key=column.value, reverse=descending)  # type: ignore[arg-type,return-value]


async def build_breakdown(
    ledger: Ledger, by: Dimension, period: Period, sort: str = "spend", descending: bool = True
) -> Breakdown:
    groups = await ledger.rollup(start=period.start, end=period.end, by=(by,), zone=period.zone)
    return Breakdown(by, period, sort, descending, tuple(sort_rows(groups, sort, descending)))


def exact_usd(nano: int) -> str:
    """Nano-dollars as an exact decimal string with nine places (no float rounding)."""
    whole, frac = divmod(abs(nano), 1_000_000_000)
    return f"{'-' if nano < 0 else ''}{whole}.{frac:09d}"


CSV_HEADER = ("spend_usd", "spend_nano_usd", "calls", "errors", "unpriced_calls",
              "estimated_calls", "baseline_nano_usd", "saved_nano_usd", "input_tokens",
              "output_tokens")  # fmt: skip


def breakdown_csv(breakdown: Breakdown) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((breakdown.by, *CSV_HEADER))
    for g in breakdown.rows:
        writer.writerow((spreadsheet_safe(g.key[0]), exact_usd(g.nano_usd), g.nano_usd, g.calls,
                         g.errors, g.unpriced_calls, g.estimated_calls, g.baseline_nano_usd,
                         g.savings_nano_usd, g.input_tokens, g.output_tokens))  # fmt: skip
    return out.getvalue()
