"""`switchboard simulate-llm`: serve the fake Eden AI v3 endpoint until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate-llm",
        help="serve a local simulated LLM (Eden AI v3 / OpenAI protocol); answers are fake",
        description="Serve a loopback OpenAI-compatible chat-completions endpoint whose answers "
        "are fake and labelled '[simulated]'. Any non-empty bearer token is accepted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (default 8765)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the fake answers")
    parser.add_argument(
        "--no-cost",
        action="store_true",
        help="plain OpenAI shape: no 'cost' field and no @edenai router",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from adapters.llm.simulator import LLMSimulator

    simulator = LLMSimulator(seed=args.seed, report_cost=not args.no_cost)
    base_url = await simulator.start(host=args.host, port=args.port)
    print(base_url, flush=True)
    print("simulated LLM: answers are fake (Ctrl-C to stop)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()
