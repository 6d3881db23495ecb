"""`switchboard router calibrate`: tier thresholds written to the routing file, either from a
sample of real traffic (target tier shares) or from shadow comparisons (a quality target)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from adapters.cli.commands.route import read_jsonl
from adapters.cli.options import add_database, settings_for
from routing.analyzer.scorer import QueryAnalyzer
from routing.calibration import ShadowComparison, calibrate, thresholds_for_quality
from routing.config import DEFAULT_ROUTING_FILE, Thresholds, write_thresholds


def add_calibrate(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cal = commands.add_parser("calibrate", help="pick tier thresholds from sample traffic")
    source = cal.add_mutually_exclusive_group(required=True)
    source.add_argument("--queries", type=Path, help='JSONL of {"text": ...} lines of real traffic')
    source.add_argument(
        "--shadow", action="store_true",
        help="use this deployment's judged shadow comparisons (from the database), scored "
             "with the active router version",
    )  # fmt: skip
    source.add_argument(
        "--comparisons", type=Path,
        help='JSONL of shadow comparisons: {"score", "cheap", "premium"} (judge scores, 1-10; '
             'optional "cheap_cost_nano", "premium_cost_nano")',
    )  # fmt: skip
    cal.add_argument("--premium-share", type=float, default=0.2)
    cal.add_argument("--budget-share", type=float, default=0.5)
    cal.add_argument("--within", type=float, default=1.0, help="judge points (with --comparisons)")
    cal.add_argument("--target", type=float, default=0.9, help="share within (--comparisons)")
    cal.add_argument("--routing-file", type=Path,
                     help="file to write (default: ROUTING_FILE, else ./routing.toml)")  # fmt: skip
    cal.add_argument("--dry-run", action="store_true", help="print, don't write")
    add_database(cal)
    cal.set_defaults(func=run_calibrate)


def _from_comparisons(args: argparse.Namespace) -> tuple[Thresholds | None, dict[str, Any]]:
    if args.shadow:
        comparisons = asyncio.run(_stored_comparisons(args))
    else:
        rows = [json.loads(line) for line in args.comparisons.read_text().splitlines()
                if line.strip()]  # fmt: skip
        comparisons = [
            ShadowComparison(float(r["score"]), float(r["cheap"]), float(r["premium"]),
                             r.get("cheap_cost_nano"), r.get("premium_cost_nano"))
            for r in rows
        ]  # fmt: skip
    result = thresholds_for_quality(comparisons, within=args.within, target=args.target)
    report: dict[str, Any] = {
        "comparisons": result.comparisons,
        "reason": result.reason,
        "budget_share": round(result.budget_share, 4),
        "balanced_share": round(result.balanced_share, 4),
        "premium_share": round(result.premium_share, 4),
        "budget_within": round(result.budget_within, 4),
        "budget_within_95ci": [round(x, 4) for x in result.budget_within_interval],
        "expected_savings": result.expected_savings,
    }
    return result.thresholds, report


async def _stored_comparisons(args: argparse.Namespace) -> list[ShadowComparison]:
    """Budget-vs-premium comparisons the judge scored, each question scored as live traffic
    would score it now (the active router version)."""
    from adapters.routing_setup import active_routing
    from adapters.stores import stores_for
    from bot.learning.quality import scores

    settings = settings_for(args)
    routing = await active_routing(settings)
    async with stores_for(settings) as stores:
        stored = await stores.learning.comparisons()
    found = []
    for comparison in stored:
        pair = scores(comparison)
        if pair is None or pair[0] != "budget":
            continue
        budget_answered = comparison.answered_tier == "budget"
        costs = (comparison.answered_cost_nano_usd, comparison.shadow_cost_nano_usd)
        cheap_cost, premium_cost = costs if budget_answered else costs[::-1]
        analysis, _version = routing.scorer.score(comparison.question, comparison.context)
        found.append(ShadowComparison(analysis.score, float(pair[1]), float(pair[2]),
                                      cheap_cost, premium_cost))  # fmt: skip
    return found


def run_calibrate(args: argparse.Namespace) -> int:
    if args.comparisons is not None or args.shadow:
        thresholds, report = _from_comparisons(args)
        if thresholds is None:
            print(f"switchboard: router calibrate: {report['reason']}", file=sys.stderr)
            return 2
    else:
        analyzer = QueryAnalyzer.load()
        texts = [text for _, text in read_jsonl(args.queries) if text is not None]
        result = calibrate(
            [analyzer.score(text).score for text in texts],
            premium_share=args.premium_share,
            budget_share=args.budget_share,
        )
        thresholds = result.thresholds
        report = {
            "queries": result.queries,
            "achieved_budget_share": round(result.budget_share, 4),
            "achieved_premium_share": round(result.premium_share, 4),
        }
    settings = settings_for(args)
    target = args.routing_file or settings.routing_file or Path("routing.toml")
    print(json.dumps({
        **report,
        "budget_below": round(thresholds.budget_below, 6),
        "premium_from": round(thresholds.premium_from, 6),
        "routing_file": None if args.dry_run else str(target),
    }, indent=2))  # fmt: skip
    if not args.dry_run:
        write_thresholds(target, thresholds, source=settings.routing_file or
                         DEFAULT_ROUTING_FILE)  # fmt: skip
        if target != settings.routing_file:
            print(f"Set ROUTING_FILE={target} to use it.", file=sys.stderr)
    return 0
