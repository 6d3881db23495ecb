"""`switchboard chat` (interactive) and `switchboard ask` (one turn, for scripts)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid

from adapters.cli.console import ConsoleReply
from adapters.composition import build
from adapters.llm.endpoint import llm_endpoint
from bot.conversation.messages import Incoming
from bot.settings import load_settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    chat = subparsers.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--thread", help="continue this thread id (default: a new thread)")
    chat.set_defaults(func=lambda args: asyncio.run(_chat(args)))
    ask = subparsers.add_parser("ask", help="ask one question and print the answer")
    ask.add_argument("text", help="the question")
    ask.add_argument("--thread", help="thread id, to continue a conversation")
    ask.add_argument("--json", action="store_true", help="print the answer and metadata as JSON")
    ask.set_defaults(func=lambda args: asyncio.run(_ask(args)))


def _incoming(thread: str, text: str) -> Incoming:
    return Incoming(
        platform="console",
        workspace="local",
        channel="terminal",
        thread=thread,
        user="you",
        text=text,
        event_id=f"console-{uuid.uuid4()}",
    )


async def _chat(args: argparse.Namespace) -> int:
    settings = load_settings()
    thread = args.thread or f"chat-{uuid.uuid4().hex[:8]}"
    async with llm_endpoint(settings) as base_url:
        app = await build(settings, llm_base_url=base_url)
        try:
            print(f"thread {thread} · Ctrl-D quits · start with !budget/!balanced/!premium "
                  "to force a tier")  # fmt: skip
            while True:
                try:
                    text = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    print()
                    return 0
                if text.strip():
                    await app.engine.handle(_incoming(thread, text), ConsoleReply())
        finally:
            await app.close()


async def _ask(args: argparse.Namespace) -> int:
    settings = load_settings()
    thread = args.thread or f"ask-{uuid.uuid4().hex[:8]}"
    async with llm_endpoint(settings, quiet=args.json) as base_url:
        app = await build(settings, llm_base_url=base_url)
        try:
            reply = ConsoleReply(echo=not args.json)
            outcome = await app.engine.handle(_incoming(thread, args.text), reply)
        finally:
            await app.close()
    if args.json:
        meta = outcome.meta
        print(json.dumps({
            "status": outcome.status,
            "reply": reply.text if meta else None,
            "error": reply.error,
            "thread": thread,
            "model": meta.model if meta else None,
            "tier": meta.tier if meta else None,
            "strategy": meta.strategy if meta else None,
            "input_tokens": meta.input_tokens if meta else None,
            "output_tokens": meta.output_tokens if meta else None,
            "cost_usd": meta.cost_usd if meta else None,
            "cost_source": meta.cost_source if meta else None,
            "latency_ms": meta.latency_ms if meta else None,
        }, ensure_ascii=False))  # fmt: skip
    elif outcome.status not in ("answered", "incomplete"):
        print(f"({outcome.status})", file=sys.stderr)
    return 0 if outcome.status in ("answered", "incomplete") else 1
