"""`switchboard demo`: the support conversation set, end to end, on embedded defaults."""

from __future__ import annotations

import argparse
import asyncio

from rich.console import Console

from adapters.cli.demo import run_demo
from bot.settings import load_settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = subparsers.add_parser("demo", help="play the demo support conversations")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    asyncio.run(run_demo(load_settings(), Console(width=160)))
    return 0
