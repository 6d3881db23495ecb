"""`switchboard` command line: each command lives in adapters/cli/commands/ and registers itself
here."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from adapters.cli.errors import run_command

COMMAND_MODULES = (
    "adapters.cli.commands.ab",
    "adapters.cli.commands.chat",
    "adapters.cli.commands.dashboard",
    "adapters.cli.commands.demo",
    "adapters.cli.commands.replay",
    "adapters.cli.commands.db",
    "adapters.cli.commands.doctor",
    "adapters.cli.commands.kb",
    "adapters.cli.commands.run",
    "adapters.cli.commands.route",
    "adapters.cli.commands.router",
    "adapters.cli.commands.simulate",
    "adapters.cli.commands.spend",
)
# Each command's module and one-line help, so that `--help` (and a typo) imports no command
# module: they import the database, HTTP and platform libraries (~2-3 s). Only the module of the
# command being run is imported; a test holds this table equal to what the modules register.
COMMANDS = {
    "ab": ("adapters.cli.commands.ab", "A/B experiments: list them, report on one"),
    "chat": ("adapters.cli.commands.chat", "talk to the bot in the terminal"),
    "ask": ("adapters.cli.commands.chat", "ask one question and print the answer"),
    "demo": ("adapters.cli.commands.demo", "play the demo support conversations"),
    "replay": (
        "adapters.cli.commands.replay",
        "play historical questions (JSONL) through the bot, or price their routing",
    ),
    "db": ("adapters.cli.commands.db", "database maintenance"),
    "doctor": (
        "adapters.cli.commands.doctor",
        "check the LLM key, Slack, Discord, the database and the time zone, live",
    ),
    "kb": (
        "adapters.cli.commands.kb",
        "the knowledge base: add, sync, list, remove and search documents; review solved threads",
    ),
    "run": ("adapters.cli.commands.run", "run the Slack/Discord bot and scheduled jobs"),
    "route": ("adapters.cli.commands.route", "print the routing decision for text"),
    "router": (
        "adapters.cli.commands.router",
        "train, evaluate, tune or calibrate the router; list and pick versions",
    ),
    "simulate-llm": (
        "adapters.cli.commands.simulate",
        "serve a local simulated LLM (Eden AI v3 / OpenAI protocol); answers are fake",
    ),
    "dashboard": (
        "adapters.cli.commands.dashboard",
        "serve the read-only spend and quality dashboard (DATABASE_URL only)",
    ),
    "digest": ("adapters.cli.commands.spend", "print (or --post) the daily spend digest"),
    "spend": ("adapters.cli.commands.spend", "spend grouped by channel, model, tier, ..."),
    "report": ("adapters.cli.commands.spend", "export the call ledger as CSV or JSON"),
}


def parser(argv: Sequence[str] | None = None, *, every: bool = False) -> argparse.ArgumentParser:
    """The parser for `argv`: the named command's module registers it in full; the others are
    listed by name and help only (`every` registers them all)."""
    root = argparse.ArgumentParser(
        prog="switchboard",
        description="Support bot that answers with the cheapest LLM that can answer well.",
    )
    root.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = root.add_subparsers(dest="command", required=True)
    words = sys.argv[1:] if argv is None else list(argv)
    wanted = next((w for w in words if not w.startswith("-")), None)
    modules = COMMAND_MODULES if every else [m for n, (m, _) in COMMANDS.items() if n == wanted]
    for module in dict.fromkeys(modules):
        importlib.import_module(module).register(subparsers)
    registered = set(subparsers.choices)
    for name, (_, help_text) in COMMANDS.items():
        if name not in registered:
            subparsers.add_parser(name, help=help_text)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
