"""Retrieval quality of the knowledge base on a labelled question set, SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_kb_quality.py [--docs ../shared/data/kb/mastodon-docs]
        [--questions bench/data/kb_questions.jsonl] [--postgres URL] [--skip-postgres]
        [--variants plain,or,...] [--misses]

Indexes the documents (`kb add`'s path: read, parse, store) in a temporary SQLite file and a
temporary PostgreSQL schema, asks every question, and prints recall@1/3/5 (the share of the
pages a question needs that are among the pages of the top k passages; a page group lists
pages any of which answers) on the dev and held-out halves, per variant and back end. Then the
confidence threshold: chosen on dev (the most questions right: answerable kept, unanswerable
refused), reported on held-out as unanswerable caught and answerable wrongly refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.knowledge.folders import FolderReader  # noqa: E402
from bot.knowledge.ingest import Ingest  # noqa: E402
from bot.knowledge.ranking import Ranking  # noqa: E402
from bot.knowledge.retrieval import KnowledgeBase, Options, Retrieval  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.knowledge import KnowledgeStore  # noqa: E402
from storage.knowledge_search import Weights  # noqa: E402

PLAIN = Options(
    synonyms=False, spelling=False, stop_words=False, every_word=True, common=1.0, least=1,
    weights=Weights(1.0, 1.0, 1.0), ranking=Ranking(rerank=False, page_boost=0.0, per_page=99),
)  # fmt: skip
PLAIN_OR = replace(PLAIN, every_word=False)
STOPPED = replace(PLAIN_OR, stop_words=True)
WEIGHTED = replace(STOPPED, weights=Weights())
COVERED = replace(WEIGHTED, ranking=Ranking(page_boost=0, per_page=99))  # BM25F rerank
BOOSTED = replace(WEIGHTED, ranking=Ranking(per_page=99))
SPREAD = replace(WEIGHTED, ranking=Ranking())
SPELLED = replace(SPREAD, spelling=True)
SYNONYMS = replace(SPELLED, synonyms=True, common=Options().common)
VARIANTS = {
    "plain bm25, AND": PLAIN,
    "plain bm25, OR": PLAIN_OR,
    "+ stop words": STOPPED,
    "+ title/heading weights": WEIGHTED,
    "+ BM25F rerank": COVERED,
    "+ page boost": BOOSTED,
    "+ 2 passages per page": SPREAD,
    "+ spelling": SPELLED,
    "+ synonyms, common words choose no candidates": SYNONYMS,
    "shipped (+ candidates with two words first)": Options(),
}
KS = (1, 3, 5)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    needs: tuple[tuple[str, ...], ...]
    split: str


def load(path: Path) -> list[Question]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        Question(r["id"], r["question"], tuple(tuple(g) for g in r["needs"]), r["split"])
        for r in rows
    ]


def recall(question: Question, retrieval: Retrieval, k: int, root: Path) -> float:
    pages = {Path(p.name).as_posix() for p in retrieval.passages[:k]}
    return sum(any(p in pages for p in group) for group in question.needs) / len(question.needs)


async def index(url: str, docs: Path, schema: str | None) -> tuple[KnowledgeStore, float]:
    engine = create_engine(url, search_path=schema)
    await upgrade(engine)
    store = KnowledgeStore(engine)
    started = time.perf_counter()
    report = await Ingest(store, FolderReader()).add([str(docs)], "default", None)
    assert not report.problems, report.problems
    return store, time.perf_counter() - started


async def evaluate(
    store: KnowledgeStore, questions: list[Question], docs: Path, names: list[str], misses: bool
) -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    for name in names:
        kb = KnowledgeBase(store, VARIANTS[name])
        rows = []
        for q in questions:
            r = await kb.search(q.text, k=5)
            rows.append((q, r))
            miss = recall(q, r, 1, docs) < 1 if q.needs else r.confidence > 0.4
            if misses and name == names[-1] and q.split == "dev" and miss:
                print(
                    f"  miss {q.id} {q.text!r} {r.confidence}: {[p.name for p in r.passages]} "
                    f"{r.words}"
                )
        results[name] = {"rows": rows}
    return results


def table(results: dict[str, dict[str, object]], docs: Path) -> list[str]:
    header = " | ".join(f"{split} R@{k}" for split in ("dev", "held-out") for k in KS)
    lines = [f"| variant | {header} |", "|---|---|---|---|---|---|---|"]
    for name, result in results.items():
        cells = []
        for split in ("dev", "held-out"):
            rows = [(q, r) for q, r in result["rows"] if q.needs and q.split == split]  # type: ignore[attr-defined]
            for k in KS:
                cells.append(f"{sum(recall(q, r, k, docs) for q, r in rows) / len(rows):.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def threshold(rows: list[tuple[Question, Retrieval]]) -> list[str]:
    dev = [(bool(q.needs), r.confidence) for q, r in rows if q.split == "dev"]
    held = [(bool(q.needs), r.confidence) for q, r in rows if q.split == "held-out"]
    candidates = sorted({c for _, c in dev} | {0.0})

    def right(pairs: list[tuple[bool, float]], t: float) -> int:
        return sum((c >= t) == answerable for answerable, c in pairs)

    best = max(candidates, key=lambda t: (right(dev, t), -t))
    # halfway to the next confidence seen on dev, so the threshold is not a dev question's own
    above = [c for c in candidates if c > best]
    lower = max([c for c in candidates if c < best], default=0.0)
    chosen = round((lower + best) / 2, 3) if above or lower else best
    lines = [f"threshold chosen on dev: {chosen}"]
    for split, pairs in (("dev", dev), ("held-out", held)):
        unanswerable = [c for a, c in pairs if not a]
        answerable = [c for a, c in pairs if a]
        caught = sum(c < chosen for c in unanswerable)
        refused = sum(c < chosen for c in answerable)
        lines.append(
            f"  {split}: unanswerable caught {caught}/{len(unanswerable)}, answerable wrongly "
            f"refused {refused}/{len(answerable)}"
        )
    return lines


async def run(args: argparse.Namespace, docs: Path) -> None:
    questions = load(Path(args.questions))
    names = [n for n in VARIANTS if not args.variants or n in args.variants.split(";")]
    answerable = sum(bool(q.needs) for q in questions)
    print(f"{len(questions)} questions ({answerable} answerable, "
          f"{len(questions) - answerable} not), docs {docs}")  # fmt: skip
    backends: list[tuple[str, str, str | None]] = []
    folder = tempfile.TemporaryDirectory()
    backends.append(("SQLite", f"sqlite+aiosqlite:///{folder.name}/kb.db", None))
    pg = args.postgres or os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", "")
    schema = f"bench_kb_{uuid.uuid4().hex[:8]}"
    if pg and not args.skip_postgres:
        admin = create_engine(pg)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        backends.append(("PostgreSQL", pg, schema))
    try:
        for label, url, search_path in backends:
            store, seconds = await index(url, docs, search_path)
            print(f"\n## {label} (indexed in {seconds:.1f} s)\n")
            results = await evaluate(store, questions, docs, names, args.misses)
            print("\n".join(table(results, docs)))
            print()
            print("\n".join(threshold(results[names[-1]]["rows"])))  # type: ignore[arg-type]
            await store.close()
            await store.db.dispose()
    finally:
        if len(backends) > 1:
            admin = create_engine(pg)
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
        folder.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", default=str(ROOT.parent / "shared/data/kb/mastodon-docs"))
    parser.add_argument("--questions", default=str(ROOT / "bench/data/kb_questions.jsonl"))
    parser.add_argument("--postgres", default="")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--variants", default="")
    parser.add_argument("--misses", action="store_true", help="print the last variant's misses")
    args = parser.parse_args()
    asyncio.run(run(args, Path(args.docs).resolve()))


if __name__ == "__main__":
    main()
