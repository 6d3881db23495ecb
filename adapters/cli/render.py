"""Operator notices (the digest) in the terminal, with rich: tables sized to the terminal.

`FittedTable` keeps a table readable in any terminal: rich sizes the columns to the width it
detects, and columns marked with a `from_width` are left out of narrower terminals (at 80
columns only the essential ones), instead of every column being squeezed to "…".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.table import Table

from bot.notices import Notice


@dataclass(frozen=True)
class Column:
    name: str
    from_width: int = 0  # shown when the terminal is at least this many columns wide
    justify: Literal["left", "right"] = "left"
    wrap: bool = False  # False: one line, cut with "…" when it must shrink
    ratio: int | None = None  # takes a share of the width left over (the long text column)


class FittedTable:
    def __init__(self, title: str, columns: Sequence[Column], width: int) -> None:
        self.keep = [i for i, column in enumerate(columns) if column.from_width <= width]
        self._width = width
        self._columns = [columns[i] for i in self.keep]
        self._widths = [len(column.name) for column in self._columns]
        self._table = Table(title=title)
        for i in self.keep:
            column = columns[i]
            self._table.add_column(
                column.name,
                justify=column.justify,
                no_wrap=not column.wrap,
                overflow="fold" if column.wrap else "ellipsis",
                ratio=column.ratio,
            )

    def add_row(self, *values: str) -> None:
        shown = [values[i] for i in self.keep]
        self._widths = [max(w, len(v)) for w, v in zip(self._widths, shown, strict=True)]
        self._table.add_row(*shown)

    def add_section(self) -> None:
        self._table.add_section()

    @property
    def table(self) -> Table:
        """The rich table; its one-line columns keep their full width, so only the long text
        column (`ratio`) and the wrapping ones give way in a narrow terminal."""
        fixed = 0
        for rich_column, column, width in zip(
            self._table.columns, self._columns, self._widths, strict=True
        ):
            if not column.wrap and column.ratio is None:
                rich_column.min_width = width
                fixed += width
        # Each column costs its width plus 3 (padding and a border), the table one more border.
        spare = self._width - fixed - 3 * len(self._columns) - 1
        for rich_column, column in zip(self._table.columns, self._columns, strict=True):
            if column.ratio is not None and not column.wrap:
                rich_column.max_width = max(8, spare)
        return self._table


def print_notice(notice: Notice, console: Console) -> None:
    summary = Table(title=notice.title, show_header=False, caption=notice.body or None)
    summary.add_column("what", overflow="fold")
    summary.add_column("value", overflow="fold")
    for label, value in notice.fields:
        summary.add_row(label, value)
    console.print(summary)
    for table in notice.tables:
        grid = Table(title=table.name)
        grid.add_column("item", overflow="fold")
        grid.add_column("spend", justify="right", no_wrap=True)
        grid.add_column("calls", justify="right", no_wrap=True)
        for row in table.rows:
            grid.add_row(*row)
        console.print(grid)
    for heading, lines in notice.notes:
        console.print(f"[bold]{heading}[/bold]")
        for line in lines:
            console.print(f"  {line}", markup=False)
    if notice.footer:
        console.print(notice.footer, style="dim", markup=False)
