"""`switchboard digest`, `switchboard spend` and `switchboard report`: the ledger from a terminal.

All three read the database `--database` or DATABASE_URL names (default
DATA_DIR/switchboard.db) and never create one: with no database they say where they looked.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TextIO, get_args
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from adapters.cli.options import add_database, settings_for
from adapters.cli.render import print_notice
from adapters.ledger_export import REPORT_COLUMNS, report_row
from adapters.reports import digest_job, platform_notifiers, quality_report
from adapters.routing_setup import build_routing
from adapters.stores import stores_for
from bot.errors import ConfigError
from bot.spend.money import format_usd
from storage.rollups import Dimension, Rollup, local_days
from storage.tables import utcnow

SPEND_BY = (
    "channel",
    "model",
    "tier",
    "user",
    "day",
    "platform",
    "workspace",
    "strategy",
    "thread",
    "purpose",  # answer, judge, shadow, check, embedding: what the spend was for
)
assert set(SPEND_BY) == set(get_args(Dimension))


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    digest = subparsers.add_parser("digest", help="print (or --post) the daily spend digest")
    digest.add_argument("--date", type=_date, help="local day to report (default: yesterday)")
    digest.add_argument(
        "--post",
        action="store_true",
        help="also post it to the configured Slack/Discord digest channel (once per day)",
    )
    digest.add_argument(
        "--force", action="store_true", help="with --post: post even if already posted"
    )
    digest.set_defaults(func=lambda args: asyncio.run(_digest(args)))
    spend = subparsers.add_parser("spend", help="spend grouped by channel, model, tier, ...")
    spend.add_argument("--since", type=_date, help="first local day (default: 1st of the month)")
    spend.add_argument("--by", choices=SPEND_BY, default="day")
    spend.set_defaults(func=lambda args: asyncio.run(_spend(args)))
    report = subparsers.add_parser("report", help="export the call ledger as CSV or JSON")
    report.add_argument("--since", type=_date, required=True, help="first local day")
    report.add_argument("--until", type=_date, help="last local day (default: today)")
    report.add_argument("--format", choices=("csv", "json"), default="csv")
    report.add_argument("--output", "-o", help="file to write (default: standard output)")
    report.set_defaults(func=_report_to_file)
    for command in (digest, spend, report):
        add_database(command)


@dataclass(frozen=True)
class Column:
    name: str
    value: Callable[[Rollup], str]
    min_width: int  # terminal width from which the column is shown


COLUMNS = (
    Column("spend", lambda g: format_usd(g.nano_usd), 0),
    Column("calls", lambda g: f"{g.calls:,}", 0),
    Column("saved", lambda g: format_usd(g.savings_nano_usd), 0),
    Column("unpriced", lambda g: f"{g.unpriced_calls:,}", 0),
    Column("errors", lambda g: f"{g.errors:,}", 100),
    Column("baseline", lambda g: format_usd(g.baseline_nano_usd), 100),
    Column("estimated", lambda g: f"{g.estimated_calls:,}", 120),
    Column("tokens in/out", lambda g: f"{g.input_tokens:,}/{g.output_tokens:,}", 140),
)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-11-28, got {value!r}"
        ) from None


def _today(zone: ZoneInfo) -> date:
    return utcnow().astimezone(zone).date()


async def _digest(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    async with stores_for(settings, create=False) as stores, AsyncExitStack() as resources:
        notifiers = await platform_notifiers(settings, resources) if args.post else []
        job = digest_job(settings, stores, build_routing(settings), notifiers)
        day = args.date or _today(job.zone) - timedelta(days=1)
        print_notice(await job.notice(day, chart=False), Console())
        if args.post:
            if not notifiers:
                raise ConfigError(
                    "no digest channel is configured: set DIGEST_SLACK_CHANNEL (with "
                    "SLACK_BOT_TOKEN) or DIGEST_DISCORD_CHANNEL_ID (with DISCORD_BOT_TOKEN)"
                )
            if await job.post(day, force=args.force):
                print(f"Posted the digest for {day} to {len(notifiers)} channel(s).",
                      file=sys.stderr)  # fmt: skip
            else:
                print(f"The digest for {day} was already posted (by the scheduler or "
                      "another run); --force posts it again.", file=sys.stderr)  # fmt: skip
    return 0


async def _spend(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    zone = ZoneInfo(settings.timezone)
    today = _today(zone)
    since = args.since or today.replace(day=1)
    if since > today:
        raise ConfigError(f"--since {since} is in the future")
    days = local_days(since, today, zone)
    async with stores_for(settings, create=False) as stores:
        groups = await stores.ledger.rollup(
            start=days[0].start, end=days[-1].end, by=(args.by,), zone=zone
        )
        purposes = await stores.ledger.rollup(
            start=days[0].start, end=days[-1].end, by=("purpose",), zone=zone
        )
        quality = await quality_report(settings, stores).lines(days[-1].end, days=len(days))
    if args.by == "day":
        groups.sort(key=lambda g: g.key)
    console = Console()
    grid = Table(title=f"Spend by {args.by}, {since} to {today} ({zone.key})")
    grid.add_column(args.by, overflow="fold")
    # Narrow terminals keep the essential columns (an 80-column terminal: the first four).
    shown = [c for c in COLUMNS if c.min_width <= console.width]
    for column in shown:
        grid.add_column(column.name, justify="right", no_wrap=True)
    for g in groups:
        grid.add_row(g.key[0] or "(none)", *(column.value(g) for column in shown))
    total = sum(g.nano_usd for g in groups)
    grid.caption = f"total {format_usd(total)} over {sum(g.calls for g in groups):,} calls"
    console.print(grid)
    if any(g.key[0] != "answer" for g in purposes):  # judge, shadow, checks: on their own line
        spent_on = ", ".join(f"{g.key[0]} {format_usd(g.nano_usd)} ({g.calls:,} calls)"
                             for g in purposes)  # fmt: skip
        console.print(f"By purpose: {spent_on}", markup=False)
    console.print("Judged quality (shadow comparisons):", style="bold")
    for line in quality:  # savings are never shown without what they cost in quality
        console.print(f"  {line}", markup=False)
    return 0


def _report_to_file(args: argparse.Namespace) -> int:
    return asyncio.run(_report(args))


PROGRESS_FROM = 20_000  # rows: an export this long takes seconds, so show how far it got


async def _report(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    zone = ZoneInfo(settings.timezone)
    days = local_days(args.since, args.until or _today(zone), zone)
    if not days:
        raise ConfigError("--until is before --since")
    start, end = days[0].start, days[-1].end
    async with stores_for(settings, create=False) as stores:
        # A bar on stderr, only in a terminal: stdout (or --output) gets the rows alone.
        console = Console(stderr=True)
        total = (await stores.ledger.total(start=start, end=end)).calls if (
            console.is_terminal
        ) else 0  # fmt: skip
        progress = Progress(
            TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, transient=True, disable=total < PROGRESS_FROM,
        )  # fmt: skip
        task = progress.add_task("export", total=total)
        with _output(args.output) as out, progress:
            rows = stores.ledger.export(start=start, end=end)
            count = await _write(out, args.format, rows, zone, lambda n: progress.advance(task, n))
        quality = await quality_report(settings, stores).lines(end, days=len(days))
    for line in quality:  # on stderr: stdout is the export itself
        print(f"judged quality: {line}", file=sys.stderr)
    if args.output:
        print(f"Wrote {count} call rows to {args.output}.", file=sys.stderr)
    return 0


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """The file --output names (opened only once there is something to write), else stdout."""
    if not path:
        yield sys.stdout
        return
    with open(path, "w", newline="", encoding="utf-8") as out:
        yield out


async def _write(
    out: TextIO, fmt: str, rows: Any, zone: ZoneInfo, done: Callable[[int], None]
) -> int:
    count = 0
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    else:
        out.write("[")
    async for found in rows:
        row = report_row(found, zone)
        if writer is not None:
            writer.writerow(row)
        else:
            out.write(("," if count else "") + "\n" + json.dumps(row))
        count += 1
        if count % 1000 == 0:
            done(1000)
    if writer is None:
        out.write("\n]\n")
    return count
