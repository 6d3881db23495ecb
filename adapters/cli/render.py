"""Operator notices (the digest) in the terminal, with rich: tables sized to the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bot.notices import Notice


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
