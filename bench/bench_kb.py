"""Knowledge base speed and size: indexing, retrieval p99 at scale, and the bot's memory.

Run: .venv/bin/python bench/bench_kb.py [--docs 1000] [--passages 50000] [--queries 500]
        [--corpus man|copies|mixed] [--postgres URL] [--skip-postgres] [--skip-memory]
        [--skip-indexing] [--write-docs DIR]

Knowledge bases are built from real text, one of three corpora (`--corpus`, see
bench/kb_corpus.py): `man` (the default: Mastodon's docs once, so that the labelled questions
can be scored at scale, then this machine's manual pages up to the size), `copies` (Mastodon's
pages rewritten some 20 times over), `mixed` (the first version: every passage mixes topics).

1. Indexing: `--docs` `mixed` documents (about 5.8 KB each) written to a temporary folder,
   then indexed through `kb add`'s path (read, parse, store, one transaction per document).
   Target: 1,000 documents (~5 MB) under 20 s.
2. Retrieval: a knowledge base of `--passages` passages of the `--corpus`, then
   `KnowledgeBase.search` (the shipped options: lookup, spelling, candidates, ranking) for the
   labelled question sets' questions, repeated to `--queries`, after 20 warm-up searches; wall
   time per search, p50 / p99, and the process's CPU time per search (the database's too on
   SQLite, which runs in the process). Target: p99 under 10 ms at 50,000 passages, SQLite
   and PostgreSQL. Then recall@1 and @5 of the labelled questions in that knowledge base
   (`man`, `copies`), as shipped and reading every posting of each word.
3. Memory: RSS of a process that builds the bot (`build`, as `switchboard run` does) and
   answers one question through the engine (the LLM simulator in-process), on an empty
   knowledge base and on one of `--docs` documents. Target: under 10 MB more.

`--write-docs DIR` only writes the `--docs` indexing documents into DIR (for
`bench_slack_load.py --kb DIR`: the bot's idle RSS with that knowledge base) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.knowledge.folders import FolderReader  # noqa: E402
from bench.kb_corpus import CORPORA, documents, mixed, page_of, pool  # noqa: E402
from bot.knowledge.ingest import Ingest  # noqa: E402
from bot.knowledge.parsing import parse_page  # noqa: E402
from bot.knowledge.retrieval import KnowledgeBase  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.knowledge import KnowledgeStore  # noqa: E402

QUESTIONS = sorted((ROOT / "bench" / "data").glob("kb_questions*.jsonl"))


async def fresh_store(url: str, schema: str | None) -> KnowledgeStore:
    engine = create_engine(url, search_path=schema)
    await upgrade(engine)
    return KnowledgeStore(engine)


async def indexing(url: str, schema: str | None, folder: Path, size: int) -> str:
    store = await fresh_store(url, schema)
    started, cpu = time.perf_counter(), time.process_time()
    report = await Ingest(store, FolderReader()).add([str(folder)], "default", None)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await store.close()
    await store.db.dispose()
    return (f"indexed {report.added} documents ({size / 1e6:.1f} MB, {report.passages:,} "
            f"passages) in {seconds:.1f} s, CPU {cpu:.1f} s")  # fmt: skip


async def retrieval(url: str, schema: str | None, passages: int, queries: int,
                    questions: list[dict[str, Any]], corpus: str) -> str:  # fmt: skip
    store = await fresh_store(url, schema)
    started = time.perf_counter()
    built = n = 0
    for name, text in documents(corpus):
        if built >= passages:
            break
        page = parse_page(text, path=name, name=name)
        await store.put("default", page)
        built += len(page.passages)
        n += 1
    await store.refresh_statistics()  # as `kb add` and `kb sync` end
    seconds = time.perf_counter() - started
    kb = KnowledgeBase(store)
    texts = [q["question"] for q in questions]
    for text in texts[:20]:
        await kb.search(text)
    times, cpu = [], []
    for i in range(queries):
        began, began_cpu = time.perf_counter(), time.process_time()
        await kb.search(texts[i % len(texts)])
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    quality = await recall(store, kb, questions) if corpus != "mixed" else ""
    await store.close()
    await store.db.dispose()
    times.sort()
    cpu.sort()
    return (f"{built:,} passages in {n:,} {corpus} documents (built in {seconds:.0f} s): "
            f"search p50 {statistics.median(times):.2f} ms, p99 {_p99(times):.2f} ms, max "
            f"{times[-1]:.2f} ms; CPU p50 {statistics.median(cpu):.2f} ms, p99 {_p99(cpu):.2f} "
            f"ms ({queries} searches){quality}")  # fmt: skip


def _p99(times: list[float]) -> float:
    return times[min(len(times) - 1, int(len(times) * 0.99))]


async def recall(store: KnowledgeStore, kb: KnowledgeBase,
                 questions: list[dict[str, Any]]) -> str:  # fmt: skip
    """Recall@1 and @5 of the labelled questions (a copy of a page counts as that page), as
    shipped and reading every posting of each word: what reading only the best costs here."""
    answerable = [q for q in questions if q["needs"]]
    figures = []
    for label, options in (("shipped", kb.options), ("every posting", _every(kb.options))):
        searcher = KnowledgeBase(store, options)
        found = {1: 0.0, 5: 0.0}
        for q in answerable:
            retrieval = await searcher.search(q["question"], k=5)
            for k in found:
                pages = {page_of(p.name) for p in retrieval.passages[:k]}
                found[k] += sum(any(p in pages for p in g) for g in q["needs"]) / len(q["needs"])
        n = len(answerable)
        figures.append(f"{label} R@1 {found[1] / n:.2f} R@5 {found[5] / n:.2f}")
    return f"; {len(answerable)} labelled questions: " + ", ".join(figures)


def _every(options: Any) -> Any:
    """The same options reading every posting (as deep as the longest list)."""
    if not hasattr(options, "depth"):
        return options
    return replace(options, depth=10**9, synonym_depth=10**9)


MEMORY_CHILD = """
import asyncio, gc, os, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from adapters.composition import build
from adapters.llm.simulator import LLMSimulator
from adapters.cli.console import ConsoleReply
from bot.conversation.messages import Incoming
from bot.settings import Settings

def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

async def main():
    async with LLMSimulator(speed=0) as sim:
        settings = Settings(_env_file=None, database_url={db!r}, llm_api_key="k",
                            routing_strategy="fixed")
        app = await build(settings, llm_base_url=sim.base_url)
        for n in range(3):
            reply = ConsoleReply(echo=False)
            await app.engine.handle(Incoming("console", "w", "c", f"t{{n}}", "u",
                                    "how do I move my followers to a new account?", f"e{{n}}"),
                                    reply)
        gc.collect()
        print(rss(), len(reply.meta.sources) if reply.meta else 0)
        await app.close()
asyncio.run(main())
"""


async def memory(folder: Path, home: Path, docs: int) -> str:
    figures = {}
    for label, source in (("empty", None), ("full", folder)):
        db = home / f"{label}.db"
        if source is not None:
            store = await fresh_store(f"sqlite+aiosqlite:///{db}", None)
            await Ingest(store, FolderReader()).add([str(source)], "default", None)
            await store.close()
            await store.db.dispose()
        env = {**os.environ, "SWITCHBOARD_HOME": str(home)}
        runs = []
        for _ in range(3):
            out = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", MEMORY_CHILD.format(root=str(ROOT), db=str(db))],
                capture_output=True, text=True, check=True, env=env,
            )  # fmt: skip
            rss, sources = out.stdout.split()
            runs.append(float(rss))
        figures[label] = (statistics.median(runs), sources)
    (empty, _), (full, sources) = figures["empty"], figures["full"]
    return (f"RSS after 3 answers: empty knowledge base {empty:.1f} MB, {docs:,} documents "
            f"{full:.1f} MB (+{full - empty:.1f} MB; {sources} sources cited)")  # fmt: skip


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def write_docs(folder: Path, docs: int) -> int:
    """The indexing corpus: `mixed` pages of 5 sections; their size in bytes."""
    sentences, headings = pool()
    rng = random.Random(1)
    size = 0
    for n in range(docs):
        text = mixed(n, 5, rng, sentences, headings)
        size += len(text.encode())
        (folder / f"page{n:05d}.md").write_text(text)
    return size


async def run(args: argparse.Namespace) -> None:
    questions = [
        json.loads(line)
        for path in QUESTIONS
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    if args.write_docs:
        args.write_docs.mkdir(parents=True, exist_ok=True)
        size = write_docs(args.write_docs, args.docs)
        print(f"{args.docs} documents ({size / 1e6:.1f} MB) written to {args.write_docs}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        size = write_docs(folder, args.docs)
        backends: list[tuple[str, str, str | None]] = [
            ("SQLite", f"sqlite+aiosqlite:///{tmp}/index.db", None)
        ]
        pg = args.postgres or os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", "")
        schemas: list[str] = []
        if pg and not args.skip_postgres:
            backends.append(("PostgreSQL", pg, None))
        for label, url, _ in backends:
            for kind in ("index", "search"):
                schema = None
                if label == "PostgreSQL":
                    schema = f"bench_kb_{uuid.uuid4().hex[:8]}"
                    schemas.append(schema)
                    admin = create_engine(pg)
                    async with admin.begin() as conn:
                        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                    await admin.dispose()
                elif kind == "search":
                    url = f"sqlite+aiosqlite:///{tmp}/search.db"
                if kind == "index" and not args.skip_indexing:
                    print(f"{label}: {await indexing(url, schema, folder, size)} "
                          f"(load {load()})")  # fmt: skip
                elif kind == "search":
                    found = await retrieval(
                        url, schema, args.passages, args.queries, questions, args.corpus
                    )
                    print(f"{label}: {found} (load {load()})")
        if schemas:
            admin = create_engine(pg)
            async with admin.begin() as conn:
                for schema in schemas:
                    await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
        if not args.skip_memory:
            print(f"memory: {await memory(folder, Path(tmp), args.docs)} (load {load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--passages", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--corpus", choices=CORPORA, default="man")
    parser.add_argument("--postgres", default="")
    parser.add_argument("--skip-indexing", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--write-docs", type=Path, help="only write the documents here")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
