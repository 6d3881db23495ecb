"""`switchboard digest`, `switchboard spend` and `switchboard report`: the ledger from a terminal.

All three read the database that DATABASE_URL names (default var/switchboard.db).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import date, datetime, timedelta
from typing import Any, TextIO, get_args
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from adapters.composition import App, build_app
from bot.conversation.ports import Notifier
from bot.errors import ConfigError
from bot.notices import ConsoleNotifier, broadcast
from bot.settings import load_settings
from bot.spend.chart import spend_chart
from bot.spend.digest import build_digest
from bot.spend.digest_render import notice, print_terminal
from bot.spend.summary import format_usd
from storage.ledger import LEDGER_COLUMNS, Dimension, ledger_export, local_days, rollup
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
)
assert set(SPEND_BY) == set(get_args(Dimension))


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    digest = subparsers.add_parser("digest", help="print (or --post) the daily spend digest")
    digest.add_argument("--date", type=_date, help="local day to report (default: yesterday)")
    digest.add_argument(
        "--post",
        action="store_true",
        help="also post it to the configured Slack/Discord digest channel",
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


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-11-28, got {value!r}"
        ) from None


async def _app() -> App:
    return await build_app(load_settings())


def _today(zone: ZoneInfo) -> date:
    return utcnow().astimezone(zone).date()


async def _digest(args: argparse.Namespace) -> int:
    app = await _app()
    try:
        zone = app.ops.zone
        day = args.date or _today(zone) - timedelta(days=1)
        data = await build_digest(
            app.db,
            day,
            zone,
            baseline_model=app.baseline_model,
            monthly_budget_nano_usd=app.budget.monthly_nano_usd,
            experiments=app.experiments,
        )
        print_terminal(data, Console(width=110))
        if args.post:
            notifiers = await _platform_notifiers(app)
            png = spend_chart(data.chart_days, data.chart_series, data.zone)
            sent = await broadcast(notifiers, notice(data, png), ConsoleNotifier())
            where = (
                "the terminal (no digest channel configured)"
                if not notifiers
                else (f"{sent} of {len(notifiers)} channel(s)")
            )
            print(f"Posted the digest for {day} to {where}.")
    finally:
        await app.close()
    return 0


async def _platform_notifiers(app: App) -> list[Notifier]:
    """One-shot notifiers for the configured digest channels (adapters import lazily)."""
    settings = app.settings
    notifiers: list[Notifier] = []
    if settings.slack_bot_token and settings.digest_slack_channel:
        from adapters.slack.app import make_client
        from adapters.slack.notifier import SlackNotifier

        notifiers.append(SlackNotifier(make_client(app), settings.digest_slack_channel))
    if settings.discord_bot_token and settings.digest_discord_channel_id:
        from adapters.discord.client import SwitchboardBot
        from adapters.discord.notifier import DiscordNotifier

        bot = SwitchboardBot(app=app)
        await bot.login(settings.discord_bot_token.get_secret_value())
        app.exit_stack.push_async_callback(bot.close)
        notifiers.append(DiscordNotifier(bot, settings.digest_discord_channel_id))
    return notifiers


async def _spend(args: argparse.Namespace) -> int:
    app = await _app()
    try:
        zone = app.ops.zone
        today = _today(zone)
        since = args.since or today.replace(day=1)
        if since > today:
            raise ConfigError(f"--since {since} is in the future")
        days = local_days(since, today, zone)
        groups = await rollup(
            app.db, start=days[0].start, end=days[-1].end, by=(args.by,), zone=zone
        )
    finally:
        await app.close()
    if args.by == "day":
        groups.sort(key=lambda g: g.key)
    grid = Table(title=f"Spend by {args.by}, {since} to {today} ({zone.key})")
    for column in (
        args.by,
        "spend",
        "calls",
        "errors",
        "tokens in/out",
        "baseline",
        "saved",
        "unpriced",
        "estimated",
    ):
        grid.add_column(column, justify="left" if column == args.by else "right")
    for g in groups:
        grid.add_row(
            g.key[0] or "(none)",
            format_usd(g.nano_usd),
            f"{g.calls:,}",
            f"{g.errors:,}",
            f"{g.input_tokens:,}/{g.output_tokens:,}",
            format_usd(g.baseline_nano_usd),
            format_usd(g.savings_nano_usd),
            f"{g.unpriced_calls:,}",
            f"{g.estimated_calls:,}",
        )
    total = sum(g.nano_usd for g in groups)
    grid.caption = f"total {format_usd(total)} over {sum(g.calls for g in groups):,} calls"
    Console(width=140).print(grid)
    return 0


def _report_to_file(args: argparse.Namespace) -> int:
    if not args.output:
        return asyncio.run(_report(args, sys.stdout))
    with open(args.output, "w", newline="", encoding="utf-8") as out:
        asyncio.run(_report(args, out))
    return 0


async def _report(args: argparse.Namespace, out: TextIO) -> int:
    app = await _app()
    try:
        zone = app.ops.zone
        days = local_days(args.since, args.until or _today(zone), zone)
        if not days:
            raise ConfigError("--until is before --since")
        rows = ledger_export(app.db, start=days[0].start, end=days[-1].end)
        count = await _write(out, args.format, rows, zone)
    finally:
        await app.close()
    if args.output:
        print(f"Wrote {count} call rows to {args.output}.", file=sys.stderr)
    return 0


async def _write(out: TextIO, fmt: str, rows: Any, zone: ZoneInfo) -> int:
    count = 0
    columns = (*LEDGER_COLUMNS, "local_time", "cost_usd")
    writer = csv.DictWriter(out, fieldnames=columns) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    else:
        out.write("[")
    async for row in rows:
        created: datetime = row["created_at"]
        nano = row["cost_nano_usd"]
        row["created_at"] = created.isoformat()
        row["local_time"] = created.astimezone(zone).isoformat()
        row["cost_usd"] = None if nano is None else f"{nano / 1e9:.9f}"
        if writer is not None:
            writer.writerow(row)
        else:
            out.write(("," if count else "") + "\n" + json.dumps(row))
        count += 1
    if writer is None:
        out.write("\n]\n")
    return count
