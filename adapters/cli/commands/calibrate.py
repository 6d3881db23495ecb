"""`switchboard router calibrate`: thresholds from a sample of real traffic, written to the
routing file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from adapters.cli.commands.route import read_jsonl


def add_calibrate(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cal = commands.add_parser("calibrate", help="pick tier thresholds from sample traffic")
    cal.add_argument(
        "--queries", type=Path, required=True, help='JSONL of {"text": ...} lines of real traffic'
    )
    cal.add_argument("--premium-share", type=float, default=0.2)
    cal.add_argument("--budget-share", type=float, default=0.5)
    cal.add_argument("--routing-file", type=Path,
                     help="file to write (default: ROUTING_FILE, else ./routing.toml)")  # fmt: skip
    cal.add_argument("--dry-run", action="store_true", help="print, don't write")
    cal.set_defaults(func=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    from bot.settings import load_settings
    from routing.analyzer.scorer import QueryAnalyzer
    from routing.calibration import calibrate
    from routing.config import DEFAULT_ROUTING_FILE, write_thresholds

    analyzer = QueryAnalyzer.load()
    texts = [text for _, text in read_jsonl(args.queries) if text is not None]
    result = calibrate(
        [analyzer.score(text).score for text in texts],
        premium_share=args.premium_share,
        budget_share=args.budget_share,
    )
    settings = load_settings()
    target = args.routing_file or settings.routing_file or Path("routing.toml")
    print(json.dumps({
        "queries": result.queries,
        "budget_below": round(result.thresholds.budget_below, 6),
        "premium_from": round(result.thresholds.premium_from, 6),
        "achieved_budget_share": round(result.budget_share, 4),
        "achieved_premium_share": round(result.premium_share, 4),
        "routing_file": None if args.dry_run else str(target),
    }, indent=2))  # fmt: skip
    if not args.dry_run:
        write_thresholds(target, result.thresholds, source=settings.routing_file or
                         DEFAULT_ROUTING_FILE)  # fmt: skip
        if target != settings.routing_file:
            print(f"Set ROUTING_FILE={target} to use it.")
    return 0
