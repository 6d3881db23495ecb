"""Knowledge base speed and size: indexing, retrieval p99 at scale, and the bot's memory.

Run: .venv/bin/python bench/bench_kb.py [--docs 1000] [--passages 50000] [--queries 500]
        [--postgres URL] [--skip-postgres] [--skip-memory]

Documents are generated from the sentences and headings of Mastodon's docs
(../shared/data/kb/mastodon-docs), so their words are distributed like a real help centre's:
each a Markdown file with front matter and ~1 KB sections.

1. Indexing: `--docs` files (about 5 KB each) written to a temporary folder, then indexed
   through `kb add`'s path (read, parse, store, one transaction per document). Target: 1,000
   documents (~5 MB) under 20 s.
2. Retrieval: a knowledge base of `--passages` passages (documents of 25 sections), then
   `KnowledgeBase.search` (the shipped options: lookup, spelling, candidates, ranking) for the
   labelled question set's questions, repeated to `--queries`, after 20 warm-up searches; wall
   time per search, p50 / p99. Target: p99 under 10 ms at 50,000 passages, SQLite and
   PostgreSQL.
3. Memory: RSS of a process that builds the bot (`build`, as `switchboard run` does) and
   answers one question through the engine (the LLM simulator in-process), on an empty
   knowledge base and on one of `--docs` documents. Target: under 10 MB more.
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
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.knowledge.folders import FolderReader  # noqa: E402
from bot.knowledge.ingest import Ingest  # noqa: E402
from bot.knowledge.parsing import parse_page  # noqa: E402
from bot.knowledge.retrieval import KnowledgeBase  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.knowledge import KnowledgeStore  # noqa: E402

MASTODON = ROOT.parent / "shared" / "data" / "kb" / "mastodon-docs"
QUESTIONS = ROOT / "bench" / "data" / "kb_questions.jsonl"


def pool() -> tuple[list[str], list[str]]:
    """Sentences and headings of the real docs, to build documents from."""
    sentences: list[str] = []
    headings: list[str] = []
    for path in sorted(MASTODON.rglob("*.md")):
        page = parse_page(path.read_text(), path=str(path), name=path.name)
        for passage in page.passages:
            headings.extend(passage.headings)
            sentences.extend(s.strip() for s in passage.text.split(". ") if len(s.strip()) > 30)
    return sentences, sorted(set(headings))


def document(n: int, sections: int, rng: random.Random, sentences: list[str],
             headings: list[str]) -> str:  # fmt: skip
    parts = [f"---\ntitle: {rng.choice(headings)} {n}\ndescription: generated page {n}\n---\n"]
    for s in range(sections):
        body = ". ".join(rng.choice(sentences) for _ in range(9))[:1100]
        parts.append(f"## {rng.choice(headings)} {s} {{#s{s}}}\n\n{body}.\n")
    return "\n".join(parts)


async def fresh_store(url: str, schema: str | None) -> KnowledgeStore:
    engine = create_engine(url, search_path=schema)
    await upgrade(engine)
    return KnowledgeStore(engine)


async def indexing(url: str, schema: str | None, folder: Path, size: int) -> str:
    store = await fresh_store(url, schema)
    started = time.perf_counter()
    report = await Ingest(store, FolderReader()).add([str(folder)], "default", None)
    seconds = time.perf_counter() - started
    await store.close()
    await store.db.dispose()
    return (f"indexed {report.added} documents ({size / 1e6:.1f} MB, {report.passages:,} "
            f"passages) in {seconds:.1f} s")  # fmt: skip


async def retrieval(url: str, schema: str | None, passages: int, queries: int,
                    texts: list[str]) -> str:  # fmt: skip
    store = await fresh_store(url, schema)
    sentences, headings = pool()
    rng = random.Random(7)
    sections = 25
    started = time.perf_counter()
    for n in range(passages // sections):
        text = document(n, sections, rng, sentences, headings)
        page = parse_page(text, path=f"gen/{n}.md", name=f"gen/{n}.md")
        await store.put("default", page)
    built = time.perf_counter() - started
    kb = KnowledgeBase(store)
    for text in texts[:20]:
        await kb.search(text)
    times = []
    for i in range(queries):
        began = time.perf_counter()
        await kb.search(texts[i % len(texts)])
        times.append((time.perf_counter() - began) * 1000)
    count = await store.run(lambda conn: conn.scalar(sa.text("SELECT count(*) FROM kb_passages")))
    await store.close()
    await store.db.dispose()
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return (f"{count:,} passages (built in {built:.0f} s): search p50 "
            f"{statistics.median(times):.2f} ms, p99 {p99:.2f} ms, max {times[-1]:.2f} ms "
            f"({queries} searches)")  # fmt: skip


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


async def run(args: argparse.Namespace) -> None:
    texts = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line]
    sentences, headings = pool()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        size = 0
        for n in range(args.docs):
            text = document(n, 5, rng, sentences, headings)
            size += len(text.encode())
            (folder / f"page{n:05d}.md").write_text(text)
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
                if kind == "index":
                    print(f"{label}: {await indexing(url, schema, folder, size)} "
                          f"(load {load()})")  # fmt: skip
                else:
                    found = await retrieval(url, schema, args.passages, args.queries, texts)
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
    parser.add_argument("--postgres", default="")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
