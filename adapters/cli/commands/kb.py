"""`switchboard kb`: the knowledge base from a terminal: add folders or files, sync them, list,
remove, and search what the bot would find for a question; review solved threads proposed as
entries (`kb_review`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from adapters.cli.commands import kb_review
from adapters.cli.errors import say
from adapters.cli.options import add_database, settings_for
from adapters.database import open_database
from adapters.knowledge.library import Library
from bot.errors import ConfigError
from bot.knowledge.config import COLLECTION, DEFAULT_COLLECTION
from bot.knowledge.gaps import gap_words, group_gaps, summary_lines
from bot.knowledge.ingest import Report
from bot.knowledge.retrieval import Retrieval
from storage.knowledge_answers import knowledge_use
from storage.rollups import local_days
from storage.tables import utcnow

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    kb = subparsers.add_parser(
        "kb",
        help="the knowledge base: add, sync, list, remove and search documents; review solved "
        "threads",
        description="Documents the bot answers from, with their sources cited (docs/knowledge.md).",
    )
    sub = kb.add_subparsers(dest="kb_command", required=True)
    add = sub.add_parser("add", help="index folders or files (Markdown, MDX, HTML, text)")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--collection", default=DEFAULT_COLLECTION,
                     help=f"the collection to add to (default: {DEFAULT_COLLECTION})")  # fmt: skip
    add.add_argument("--url-base", metavar="URL",
                     help="the site's public URL: citations link each page under it (Hugo and "
                     "Docusaurus paths and front matter slugs are mapped)")  # fmt: skip
    add.set_defaults(func=_add_paths)
    sync = sub.add_parser("sync", help="re-read every added folder: changed, new, removed files")
    sync.add_argument("--collection", help="only this collection")
    sync.set_defaults(func=lambda args: _run(args, _sync, semantic=True))
    listing = sub.add_parser("list", help="collections, their folders and documents")
    listing.add_argument("--collection", help="only this collection")
    listing.add_argument("--documents", action="store_true", help="list every document")
    listing.set_defaults(func=lambda args: _run(args, _list, create=False))
    remove = sub.add_parser("remove", help="drop an added folder or file, or a whole collection")
    remove.add_argument("paths", nargs="*", metavar="PATH", help="as given to `kb add`")
    remove.add_argument("--collection",
                        help="the collection (alone: drop all of it)")  # fmt: skip
    remove.set_defaults(func=lambda args: _run(args, _remove, create=False))
    search = sub.add_parser("search", help="the passages the bot would find for a question")
    search.add_argument("text", help="the question")
    search.add_argument("-k", default="5", help="how many passages (default 5)")
    search.add_argument("--collection", action="append",
                        help="search only this collection (repeatable)")  # fmt: skip
    search.add_argument("--json", action="store_true", help="print the passages as JSON")
    search.set_defaults(func=lambda args: _run(args, _search, create=False, semantic=True))
    gaps = sub.add_parser("gaps", help="questions answered from the docs, most cited pages, "
                          "and the content gaps")  # fmt: skip
    gaps.add_argument("--since", help="first local day, YYYY-MM-DD (default: 30 days ago)")
    gaps.add_argument("--until", help="last local day (default: today)")
    gaps.set_defaults(func=lambda args: _run(args, _gaps, create=False))
    review = kb_review.register(sub)
    review.set_defaults(func=lambda args: _run(args, kb_review.review, create=False))
    for command in (add, sync, listing, remove, search, gaps, review):
        add_database(command)


def _check(args: argparse.Namespace) -> None:
    """Checked here rather than by argparse, whose errors print the usage too: one line,
    exit 2."""
    collection = getattr(args, "collection", None)
    for name in collection if isinstance(collection, list) else [collection]:
        if name is not None:
            _collection(name)
    if getattr(args, "url_base", None) is not None:
        _url(args.url_base)
    if hasattr(args, "k"):
        args.k = _positive(str(args.k))


def _collection(value: str) -> str:
    if not COLLECTION.match(value):
        raise ConfigError(
            f"--collection {value!r}: a collection name is letters, digits, '.', '_' or '-' "
            "(at most 128)"
        )
    return value


def _url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(
            f"--url-base {value!r} is not an http(s) URL, e.g. https://docs.example.com/"
        )
    return value


def _positive(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 100:
        raise ConfigError(f"-k {value!r}: give a number of passages from 1 to 100")
    return int(value)


def _run(
    args: argparse.Namespace,
    body: Callable[[argparse.Namespace, Library], Awaitable[int]],
    *,
    create: bool = True,
    semantic: bool = False,
) -> int:
    """`body` over the knowledge base; with `semantic` and KB_EMBEDDING_MODEL set, over the
    bot's metered call path too (embeddings are calls on the ledger, within the budgets)."""
    _check(args)
    settings = settings_for(args)

    async def run() -> int:
        db = await open_database(settings, create=create)
        app = None
        if semantic and settings.kb_embedding_model.strip():
            from adapters.composition import build  # the whole bot: only for embeddings

            app = await build(settings, db=db, migrate=False)
        library = Library.over(db, settings, app.calls if app is not None else None)
        try:
            return await body(args, library)
        finally:
            await library.close()
            await (app.close() if app is not None else db.dispose())

    return asyncio.run(run())


def _summary(report: Report, seconds: float, collection: str | None) -> int:
    """Print each problem on its own line and the counts; 2 when nothing could be read."""
    for problem in report.problems:
        say(str(problem))
    if report.embedding is not None:
        done = report.embedding
        unknown = f" + {done.unpriced} at an unknown price" if done.unpriced else ""
        print(f"{done.passages:,} passages embedded in {done.calls} request(s), "
              f"${done.cost_nano_usd / 1e9:.6f}{unknown} (on the ledger)")  # fmt: skip
    where = f" in collection {collection!r}" if collection else ""
    print(
        f"{report.added} added, {report.changed} changed, {report.unchanged} unchanged, "
        f"{report.removed} removed ({report.passages:,} passages indexed){where} in "
        f"{seconds:.1f} s" + (f"; {len(report.problems)} skipped" if report.problems else "")
    )
    return 2 if report.problems and not report.read else 0


def _add_paths(args: argparse.Namespace) -> int:
    """`kb add`; when no path exists at all, one line each and no database is created."""
    if not any(os.path.lexists(os.path.expanduser(path)) for path in args.paths):
        _check(args)
        for path in args.paths:
            say(f"{path}: no such file or folder")
        return 2
    return _run(args, _add, semantic=True)


async def _add(args: argparse.Namespace, library: Library) -> int:
    started = time.perf_counter()
    report = await library.ingest.add(args.paths, args.collection, args.url_base)
    return _summary(report, time.perf_counter() - started, args.collection)


async def _sync(args: argparse.Namespace, library: Library) -> int:
    if not await library.store.sources(args.collection):
        raise ConfigError(
            "nothing to sync: no folder was added"
            + (f" to collection {args.collection!r}" if args.collection else "")
            + "; add one with `switchboard kb add PATH`"
        )
    started = time.perf_counter()
    report = await library.ingest.sync(args.collection)
    return _summary(report, time.perf_counter() - started, args.collection)


async def _list(args: argparse.Namespace, library: Library) -> int:
    documents = await library.store.documents(args.collection)
    sources = await library.store.sources(args.collection)
    if not documents and not sources:
        print("the knowledge base is empty: add documents with `switchboard kb add PATH`")
        return 0
    collections = sorted({d.collection for d in documents} | {s.collection for s in sources})
    for collection in collections:
        mine = [d for d in documents if d.collection == collection]
        passages = sum(d.passages for d in mine)
        print(f"{collection}: {len(mine)} documents, {passages:,} passages")
        for source in (s for s in sources if s.collection == collection):
            count = sum(d.source_id == source.id for d in mine)
            synced = source.synced_at.strftime("%Y-%m-%d %H:%M UTC") if source.synced_at else "-"
            link = f" -> {source.url_base}" if source.url_base else ""
            print(f"  {source.root}{link}: {count} documents, synced {synced}")
        added = sum(d.source_id is None for d in mine)
        if added:
            print(f"  (added by the bot: {added} documents)")
        if args.documents:
            for d in mine:
                print(f"    {d.name}  {d.title!r}  {d.passages} passages  {d.url or ''}".rstrip())
    return 0


async def _remove(args: argparse.Namespace, library: Library) -> int:
    if not args.paths and not args.collection:
        raise ConfigError("kb remove: name a PATH as given to `kb add`, or --collection NAME")
    store = library.store
    sources = await store.sources(args.collection)
    if not args.paths:
        documents = await store.documents(args.collection)
        if not documents and not sources:
            raise ConfigError(f"no collection {args.collection!r} (see `switchboard kb list`)")
        for source in sources:
            await store.remove_source(source.id)
        await store.remove([d.id for d in documents if d.source_id is None])
        print(f"removed collection {args.collection!r}: {len(documents)} documents")
        return 0
    missing = 0
    for path in args.paths:
        absolute = library.ingest.reader.absolute(path)
        chosen = [s for s in sources if s.root == absolute]
        for source in chosen:
            count = await store.remove_source(source.id)
            print(f"removed {source.root} from {source.collection!r}: {count} documents")
        ids = [d.id for d in await store.documents(args.collection) if d.path == absolute]
        if ids:
            await store.remove(ids)
            print(f"removed {absolute}: {len(ids)} document(s)")
        if not chosen and not ids:
            say(f"{path}: not in the knowledge base (see `switchboard kb list`)")
            missing += 1
    return 2 if missing == len(args.paths) else 0


async def _search(args: argparse.Namespace, library: Library) -> int:
    retrieval = await library.search.search(args.text, args.collection, args.k)
    if args.json:
        print(json.dumps(as_json(retrieval), indent=2, ensure_ascii=False))
        return 0
    if not retrieval.passages:
        print("no passage matches (is anything indexed? see `switchboard kb list`)")
        return 0
    for n, found in enumerate(retrieval.passages, 1):
        print(f"{n}. {found.section}  (score {found.score:.2f})")
        print(f"   {found.url or found.name}")
        print(f"   {_excerpt(found.text)}")
    print(f"confidence {retrieval.confidence:.2f}")
    return 0


async def _gaps(args: argparse.Namespace, library: Library) -> int:
    zone = ZoneInfo(settings_for(args).timezone)
    today = utcnow().astimezone(zone).date()
    until = _day(args.until, "--until") or today
    since = _day(args.since, "--since") or until - timedelta(days=29)
    days = local_days(since, until, zone)
    if not days:
        raise ConfigError(f"--since {since} is after --until {until}")
    start, end = days[0].start, days[-1].end
    use = await library.store.run(lambda conn: knowledge_use(conn, start, end))
    print(f"Knowledge base, {since} to {until} ({zone.key}):")
    if not use.questions:
        print("  no question was asked where a knowledge base was in use")
        return 0
    gaps = group_gaps(use.gaps)
    print(f"  {summary_lines(use, ())[0]}")
    if use.pages:
        print("  Most cited:")
        for page in use.pages:
            print(f"    {page.citations:>5,}  {page.title}  {page.url or page.path}")
    if gaps:
        print("  Content gaps (questions no page covered):")
        for gap in gaps:
            examples = "; ".join(_excerpt(e, 60) for e in gap.examples)
            print(f"    {gap_words(gap)}: {examples}")
    return 0


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} {value!r}: expected a date like 2026-11-28") from None


def as_json(retrieval: Retrieval) -> dict[str, object]:
    return {
        "question": retrieval.question,
        "confidence": retrieval.confidence,
        "passages": [
            {
                "document": f.document,
                "section": f.section,
                "headings": list(f.headings),
                "link": f.url,
                "path": f.name,
                "collection": f.collection,
                "score": f.score,
                "text": f.text,
            }
            for f in retrieval.passages
        ],
    }


def _excerpt(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rsplit(" ", 1)[0] + " …"
