"""`switchboard route TEXT | --jsonl FILE`: show routing decisions without calling any model."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# The rest is imported where it is used: `switchboard --help` imports every command module.
if TYPE_CHECKING:
    from routing.strategy import Decision, Strategy


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    route = subparsers.add_parser("route", help="print the routing decision for text")
    route.add_argument("text", nargs="?", help="the message to route")
    route.add_argument("--jsonl", type=Path, help='file of {"id": ..., "text": ...} lines')
    route.add_argument("--strategy", help="strategy to use (default: ROUTING_STRATEGY)")
    route.set_defaults(func=_route)


def load_strategy(name: str | None) -> Strategy:
    from adapters.routing_setup import active_routing
    from bot.errors import ConfigError
    from bot.settings import load_settings

    settings = load_settings()
    strategies = asyncio.run(active_routing(settings)).strategies
    chosen = name or settings.routing_strategy
    if chosen not in strategies:
        raise ConfigError(f"unknown strategy {chosen!r} (known: {', '.join(sorted(strategies))})")
    return strategies[chosen]


def decision_json(decision: Decision, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "strategy": decision.strategy,
        "tier": decision.tier,
        "model": decision.models[0],
        "fallbacks": list(decision.models[1:]),
        "score": None if decision.score is None else round(decision.score, 4),
        "reasons": list(decision.reasons),
        "decision_us": decision.decision_us,
        **({"router_candidates": decision.extra_body["router_candidates"]}
           if "router_candidates" in decision.extra_body else {}),
    }  # fmt: skip


def read_jsonl(path: Path) -> Iterator[tuple[Any, str | None]]:
    """(id, text) per line; text None when the line is not a JSON object with a text string."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                yield number, None
                continue
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                yield item.get("id", number), item["text"]
            else:
                yield (item.get("id", number) if isinstance(item, dict) else number), None


def route_file(strategy: Strategy, path: Path, out: TextIO) -> int:
    from routing.strategy import RouteRequest

    bad = 0
    for item_id, text in read_jsonl(path):
        if text is None:
            bad += 1
            out.write(json.dumps({"id": item_id, "error": "line has no text field"}) + "\n")
            continue
        decision = strategy.decide(RouteRequest(text=text))
        out.write(json.dumps(decision_json(decision, id=item_id), ensure_ascii=False) + "\n")
    return bad


def _route(args: argparse.Namespace) -> int:
    from routing.strategy import RouteRequest

    strategy = load_strategy(args.strategy)
    if args.jsonl:
        bad = route_file(strategy, args.jsonl, sys.stdout)
        if bad:
            print(f"{bad} line(s) skipped: not a JSON object with a text field", file=sys.stderr)
        return 0
    if args.text is None:
        print("switchboard route: give TEXT or --jsonl FILE", file=sys.stderr)
        return 2
    decision = strategy.decide(RouteRequest(text=args.text))
    print(json.dumps(decision_json(decision), ensure_ascii=False, indent=2))
    return 0
