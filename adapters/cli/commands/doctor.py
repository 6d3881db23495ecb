"""`switchboard doctor`: check each configured part live, one line each (✓, or ✗ with the fix).

Exit code 0 only when every check passes, 1 when one fails (2, as everywhere, for a bad
setting, which stops before any check). `switchboard run` makes the same credential checks
at start-up.
"""

from __future__ import annotations

import argparse
import asyncio

from adapters.checks import doctor
from adapters.cli.options import add_database, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "doctor",
        help="check the LLM key, Slack, Discord, the database and the time zone, live",
        description="Check each configured part live (LLM API, Slack, Socket Mode, Discord, "
        "the database, digest channels, the time zone); one line each, ✓ or ✗ with the fix. "
        "Exit code 0 only when all pass.",
    )
    add_database(parser)
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    results = asyncio.run(doctor(settings, settings.llm_base_url))
    for finding in results:
        print(finding.line())
    bad = sum(not f.ok for f in results)
    print(f"{len(results) - bad} passed, {bad} failed" if bad else f"all {len(results)} passed")
    return 1 if bad else 0
