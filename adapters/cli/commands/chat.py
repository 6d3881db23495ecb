"""`switchboard chat` (interactive) and `switchboard ask` (one turn, for scripts)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from adapters.cli.console import ConsoleReply
from adapters.cli.options import add_database, settings_for
from adapters.composition import build
from adapters.llm.endpoint import llm_endpoint
from bot.conversation.messages import Incoming


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    chat = subparsers.add_parser(
        "chat",
        help="talk to the bot in the terminal",
        description="Talk to the bot in the terminal: line editing and history (arrow keys), "
        "Ctrl-C cancels the answer being written and keeps the session, Ctrl-D quits.",
    )
    chat.add_argument("--thread", help="continue this thread id (default: a new thread)")
    add_database(chat)
    chat.set_defaults(func=_chat)
    ask = subparsers.add_parser("ask", help="ask one question and print the answer")
    ask.add_argument("text", help="the question")
    ask.add_argument("--thread", help="thread id, to continue a conversation")
    ask.add_argument("--json", action="store_true", help="print the answer and metadata as JSON")
    add_database(ask)
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


def _chat(args: argparse.Namespace) -> int:
    """One event loop for the session, run only while an answer is being written: the prompt
    is a plain `input()` in the main thread (readline: editing, history), and Ctrl-C while
    answering cancels that answer only (asyncio.Runner turns it into a cancellation)."""
    settings = settings_for(args)
    thread = args.thread or f"chat-{uuid.uuid4().hex[:8]}"
    history = line_history(settings.data_dir / "chat_history")
    with asyncio.Runner() as runner:
        resources = AsyncExitStack()
        try:
            base_url = runner.run(resources.enter_async_context(llm_endpoint(settings)))
            app = runner.run(build(settings, llm_base_url=base_url))
            resources.push_async_callback(app.close)
            print(f"thread {thread} · Ctrl-C stops an answer · Ctrl-D quits · start with "
                  "!budget/!balanced/!premium to force a tier")  # fmt: skip
            while True:
                try:
                    text = input("you> ")
                except EOFError:
                    print()
                    return 0
                except KeyboardInterrupt:  # at the prompt: drop the line, keep the session
                    print()
                    continue
                if not text.strip():
                    continue
                reply = ConsoleReply(width=_terminal_width())
                try:
                    runner.run(app.engine.handle(_incoming(thread, text), reply))
                except KeyboardInterrupt:
                    reply.interrupted()
        finally:
            history.save()
            runner.run(resources.aclose())


def _terminal_width() -> int | None:
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


@dataclass(frozen=True)
class LineHistory:
    """readline's history of what was typed in `chat`, kept in DATA_DIR between sessions."""

    path: Path | None

    def save(self) -> None:
        if self.path is None:
            return
        import readline

        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(self.path)


def line_history(path: Path) -> LineHistory:
    """Line editing and history for `input()` when it reads from a terminal."""
    if not sys.stdin.isatty():
        return LineHistory(None)
    try:
        import readline  # importing it is what gives input() editing and arrow keys
    except ImportError:  # not on every platform
        return LineHistory(None)
    readline.set_history_length(1000)
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    return LineHistory(path)


async def _ask(args: argparse.Namespace) -> int:
    settings = settings_for(args)
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
            "reply": reply.text if meta or outcome.status == "handed_off" else None,
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
            "sources": [
                {"title": c.title, "section": c.section, "link": c.url, "path": c.path}
                for c in (meta.sources if meta else ())
            ],
        }, ensure_ascii=False))  # fmt: skip
    elif outcome.status not in ("answered", "incomplete", "handed_off"):
        print(f"({outcome.status})", file=sys.stderr)
    return 0 if outcome.status in ("answered", "incomplete", "handed_off") else 1
