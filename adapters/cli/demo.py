"""`switchboard demo`: play the bundled support conversations through the real engine and
print what happened, read back from the database."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapters.cli.console import ConsoleReply
from adapters.cli.render import Column, FittedTable
from adapters.composition import build
from adapters.knowledge.library import Library
from adapters.llm.endpoint import llm_endpoint
from adapters.routing_setup import load_routing_file
from adapters.stores import open_database
from bot.conversation.messages import Incoming
from bot.settings import Settings, home_dir
from storage.database import create_engine
from storage.ledger import CallRow, Ledger


@dataclass(frozen=True)
class Conversation:
    kind: str
    messages: tuple[str, ...]


def load_conversations() -> list[Conversation]:
    source = resources.files("adapters.cli").joinpath("demo_conversations.json")
    raw = json.loads(source.read_text())
    return [Conversation(c["kind"], tuple(c["messages"])) for c in raw["conversations"]]


async def play(
    settings: Settings, base_url: str, run: str, on_turn: Callable[[], None] = lambda: None
) -> None:
    """One pass over the conversation set with the settings' routing strategy.

    Conversations run concurrently (as they would in a busy channel); turns within one
    conversation run in order. `on_turn` is called after each answered turn (progress).
    """
    app = await build(settings, llm_base_url=base_url, migrate=False)

    async def converse(number: int, conversation: Conversation) -> None:
        for turn, text in enumerate(conversation.messages, start=1):
            incoming = Incoming(
                platform="demo",
                workspace="demo",
                channel=run,
                thread=f"{run}-{number}",
                user="customer",
                text=text,
                event_id=f"{run}-{number}-{turn}",
            )
            await app.engine.handle(incoming, ConsoleReply(echo=False))
            on_turn()

    try:
        conversations = load_conversations()
        await asyncio.gather(*(converse(n, c) for n, c in enumerate(conversations, start=1)))
    finally:
        await app.close()


def fresh_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


DEFAULT_RUNS = ("fixed", "tiered")


async def run_demo(
    settings: Settings,
    console: Console,
    runs: tuple[str, ...] = DEFAULT_RUNS,
    simulator_speed: float = 1.0,
) -> list[CallRow]:
    """Play the set once per strategy (`fixed` = always the premium model) and print what the
    database recorded: every call, then the comparison against the first run."""
    db_path = settings.data_dir / "demo.db"
    fresh_database(db_path)
    premium = load_routing_file(settings).premium_model
    demo_settings = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{db_path}", "fixed_model": premium}
    )
    db = await open_database(demo_settings)  # migrated once, before the runs share it
    await db.dispose()
    console.print(f"[bold]Playing the support conversations with strategies {', '.join(runs)}...")
    turns = sum(len(c.messages) for c in load_conversations()) * len(runs)
    # A live bar only on a terminal (rich leaves it out of pipes and files); gone when done.
    progress = Progress(
        TextColumn("answering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )  # fmt: skip
    task = progress.add_task("answering", total=turns)
    with progress:
        async with llm_endpoint(settings, speed=simulator_speed) as base_url:
            await asyncio.gather(*(
                play(demo_settings.model_copy(update={"routing_strategy": run}), base_url, run,
                     lambda: progress.advance(task))
                for run in runs
            ))  # fmt: skip
    db = create_engine(demo_settings.resolved_database_url)
    try:
        rows = await Ledger(db).call_rows(platform="demo")
    finally:
        await db.dispose()
    ordered = sorted(rows, key=lambda r: (runs.index(r.strategy), r.id))
    console.print(calls_table(ordered, console.width))
    console.print(comparison_table(rows, runs, console.width))
    source = "simulated answers; costs from the simulator's reported usage and list prices"
    if settings.has_api_key:
        source = f"real answers from {settings.llm_base_url}"
    console.print(f"Read back from {db_path} ({source}).")
    await answer_from_docs(demo_settings, console, simulator_speed)
    return rows


MASTODON_DOCS: tuple[str, str | None, str] = (
    "../shared/data/kb/mastodon-docs",
    "https://docs.joinmastodon.org/",
    "how do I move my followers to a new account?",
)
DEMO_DOCS: tuple[str, str | None, str] = (
    "",
    None,
    "How do I change the VAT number on my invoices?",
)


async def answer_from_docs(settings: Settings, console: Console, speed: float) -> None:
    """Index a help centre (Mastodon's docs beside the checkout when there, else the bundled
    demo pages) and answer one question from it, with its sources."""
    folder, url_base, question = MASTODON_DOCS
    docs = home_dir() / folder
    if not docs.is_dir():
        _, url_base, question = DEMO_DOCS
        docs = Path(str(resources.files("adapters.cli").joinpath("demo_docs")))
    db = create_engine(settings.resolved_database_url)
    library = Library.over(db, settings)
    try:
        report = await library.ingest.add([str(docs)], "default", url_base)
    finally:
        await library.close()
        await db.dispose()
    console.print(f"[bold]Answering from the docs[/bold] ({report.read} pages indexed from {docs})")
    async with llm_endpoint(settings, speed=speed, quiet=True) as base_url:
        app = await build(settings, llm_base_url=base_url, migrate=False)
        reply = ConsoleReply(echo=False)
        try:
            await app.engine.handle(
                Incoming("console", "demo", "docs", "docs-1", "customer", question, "docs-1"),
                reply,
            )
        finally:
            await app.close()
    console.print(f"you> {question}", markup=False, highlight=False)
    console.print(f"bot> {reply.text or reply.error}", markup=False, highlight=False)
    for source in reply.meta.sources if reply.meta else ():
        console.print(f"     source: {source.label} — {source.url or source.path}",
                      markup=False, highlight=False)  # fmt: skip


def usd(nano: int | None) -> str:
    return "unknown" if nano is None else f"${nano / 1e9:.6f}"


CALL_COLUMNS = (
    Column("#", justify="right"),
    Column("strategy"),
    Column("question", ratio=1),
    Column("tier"),
    Column("model"),
    Column("in", 120, "right"),
    Column("out", 120, "right"),
    Column("cost", justify="right"),
    Column("source", 140),
    Column("latency", 100, "right"),
    Column("status", 100),
)


def short_model(model: str, width: int) -> str:
    """`anthropic/claude-opus-4-5` -> `claude-opus-4-5` in terminals under 120 columns."""
    return model if width >= 120 else model.rsplit("/", 1)[-1]


def calls_table(rows: list[CallRow], width: int = 200) -> Table:
    table = FittedTable("What each query cost (one row per LLM call attempt)", CALL_COLUMNS, width)
    for row in rows:
        question = (row.question or "")[:40].replace("\n", " ")
        table.add_row(
            str(row.id), row.strategy, question, row.tier or "-",
            short_model(row.model, width), str(row.input_tokens or 0),
            str(row.output_tokens or 0), usd(row.cost_nano_usd), row.cost_source,
            f"{row.latency_ms or 0} ms", row.status,
        )  # fmt: skip
    priced = [r.cost_nano_usd for r in rows if r.cost_nano_usd is not None]
    latencies = [r.latency_ms or 0 for r in rows]
    table.add_section()
    table.add_row(
        "", "total", f"{len(rows)} calls", "", "", str(sum(r.input_tokens or 0 for r in rows)),
        str(sum(r.output_tokens or 0 for r in rows)), usd(sum(priced)), "",
        f"avg {sum(latencies) // max(1, len(latencies))} ms", "",
    )  # fmt: skip
    return table.table


COMPARISON_COLUMNS = (
    Column("strategy"),
    Column("queries", justify="right"),
    Column("total cost", justify="right"),
    Column("cost/query", 100, "right"),
    Column("savings", justify="right"),
    Column("models", wrap=True, ratio=1),
    Column("avg latency", 100, "right"),
    Column("routing overhead", 120, "right"),
)


def comparison_table(rows: list[CallRow], runs: tuple[str, ...], width: int = 200) -> Table:
    """Per strategy: cost per query, savings against the first run, models, latency, overhead."""
    title = f"Strategies compared (savings against '{runs[0]}')"
    table = FittedTable(title, COMPARISON_COLUMNS, width)
    baseline: int | None = None
    for run in runs:
        answered = [r for r in rows if r.strategy == run and r.status != "error"]
        mine = [r for r in rows if r.strategy == run]
        queries = len(answered)  # failed attempts are separate rows; one answer per query
        known = [r.cost_nano_usd for r in mine if r.cost_nano_usd is not None]
        total = sum(known)
        baseline = total if baseline is None else baseline
        savings = "-" if run == runs[0] or not baseline else f"{(1 - total / baseline):.0%}"
        models = Counter(r.model for r in answered)
        decision = [r.decision_us or 0 for r in mine]
        table.add_row(
            run, str(queries), usd(total), usd(total // max(1, queries)), savings,
            ", ".join(f"{m.split('/')[-1]} x{n}" for m, n in models.most_common()),
            f"{sum(r.latency_ms or 0 for r in answered) // max(1, len(answered))} ms",
            f"{sum(decision) / max(1, len(decision)):.0f} µs",
        )  # fmt: skip
    return table.table
