"""`switchboard replay FILE.jsonl [--route-only]`: historical questions as live traffic."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from adapters.cli.options import add_database, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    replay = subparsers.add_parser(
        "replay",
        help="play historical questions (JSONL) through the bot, or price their routing",
        description='Each line: {"id": ..., "text": ..., "thread"?: ..., "channel"?: ...}. '
        "Prints one JSON line per question. Safe to interrupt and run again: questions "
        "already answered are not asked twice.",
    )
    replay.add_argument("file", type=Path, help="JSONL file of questions")
    replay.add_argument(
        "--route-only",
        action="store_true",
        help="no model calls: route each question and price it from estimated tokens",
    )
    replay.add_argument(
        "--output-tokens",
        type=int,
        default=300,
        help="with --route-only: the answer length assumed for pricing (default 300 tokens)",
    )
    replay.add_argument("--concurrency", type=int, default=4, help="questions at once (default 4)")
    replay.add_argument(
        "--workspace", default="replay", help="workspace the questions are filed under"
    )
    add_database(replay)
    replay.set_defaults(func=lambda args: asyncio.run(_replay(args)))


async def _replay(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from adapters.cli import replay
    from bot.errors import ConfigError

    if args.concurrency < 1 or args.output_tokens < 0:
        raise ConfigError("--concurrency must be at least 1 and --output-tokens at least 0")
    settings = settings_for(args)
    lines = list(replay.read_lines(args.file))
    bad = [item for item in lines if isinstance(item, str)]
    questions = [item for item in lines if not isinstance(item, str)]
    for problem in bad:
        print(f"switchboard replay: skipped {problem}", file=sys.stderr)
    tally: Counter[str] = Counter()
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("replaying", total=len(questions))
        if args.route_only:
            results = _route_only(settings, questions, args.output_tokens)
            for result in await results:
                replay.write(sys.stdout, result)
                tally[str(result.get("tier"))] += 1
                progress.advance(task)
        else:
            await _answer_all(settings, questions, args, progress, task, tally)
    summary = ", ".join(f"{name} {count}" for name, count in sorted(tally.items()))
    print(f"replayed {len(questions)} question(s): {summary or 'none'}", file=sys.stderr)
    return 0


async def _route_only(settings: Any, questions: list[Any], output_tokens: int) -> list[Any]:
    from adapters.cli import replay
    from adapters.routing_setup import active_routing
    from bot.llm.pricing import Pricer, estimate_tokens

    strategy = (await active_routing(settings)).strategies[settings.routing_strategy]
    pricer = Pricer()
    system = estimate_tokens(settings.system_prompt) + 8
    return [replay.route_only(strategy, pricer, q, system, output_tokens) for q in questions]


async def _answer_all(
    settings: Any, questions: list[Any], args: argparse.Namespace, progress: Any, task: Any,
    tally: Counter[str],
) -> None:  # fmt: skip
    from adapters.cli import replay
    from adapters.composition import build
    from adapters.llm.endpoint import llm_endpoint

    async with llm_endpoint(settings) as base_url:
        switchboard = await build(settings, llm_base_url=base_url)
        try:
            pending = iter(questions)

            async def worker() -> None:
                for question in pending:
                    result = await replay.answer(switchboard, question, args.workspace)
                    replay.write(sys.stdout, result)
                    tally[str(result.get("tier") or result["status"])] += 1
                    progress.advance(task)

            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            for observer in (switchboard.shadow, switchboard.judge):
                if observer is not None:
                    await observer.drain()  # comparisons started by the replay finish with it
        finally:
            await switchboard.close()
