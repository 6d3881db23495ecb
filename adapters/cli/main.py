"""`switchboard` command line: each command lives in bot/commands/ and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot.errors import SwitchboardError
from routing.config import RoutingFileError

COMMAND_MODULES = (
    "adapters.cli.commands.ab",
    "adapters.cli.commands.chat",
    "adapters.cli.commands.dashboard",
    "adapters.cli.commands.demo",
    "adapters.cli.commands.db",
    "adapters.cli.commands.run",
    "adapters.cli.commands.route",
    "adapters.cli.commands.router",
    "adapters.cli.commands.simulate",
    "adapters.cli.commands.spend",
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="switchboard",
        description="Support bot that answers with the cheapest LLM that can answer well.",
    )
    root.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = root.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
    except (SwitchboardError, RoutingFileError) as error:
        print(f"switchboard: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
