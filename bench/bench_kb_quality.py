"""Retrieval quality of the knowledge base on a labelled question set, SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_kb_quality.py [--docs ../shared/data/kb/mastodon-docs]
        [--questions bench/data/kb_questions.jsonl --questions ...] [--postgres URL]
        [--skip-postgres] [--variants plain,or,...] [--misses]

Indexes the documents (`kb add`'s path: read, parse, store) in a temporary SQLite file and a
temporary PostgreSQL schema, asks every question, and prints recall@1/3/5 (the share of the
pages a question needs that are among the pages of the top k passages; a page group lists
pages any of which answers) on the dev and held-out halves of each question set, per variant
and back end. Then each confidence signal's threshold: chosen on the dev halves of all the
sets together (the most questions right: answerable kept, unanswerable refused), reported per
set and half as unanswerable caught and answerable wrongly refused, with the same figures at
the shipped KB_MIN_CONFIDENCE, and the signal's AUC (the chance that an answerable question
scores above an unanswerable one: 0.5 is no better than a coin).

Question sets (default: both): bench/data/kb_questions.jsonl (A, written first, the ranking's
settings were chosen on its dev half) and bench/data/kb_questions_b.jsonl (B, written later
by another hand to validate the confidence).
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
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT.parent / "shared/data/kb/mastodon-docs"
sys.path.insert(0, str(ROOT))

from adapters.knowledge.folders import FolderReader  # noqa: E402
from bot.knowledge.config import KnowledgeConfig  # noqa: E402
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
CONFIDENCES = {
    "coverage (share of the words found; before)": replace(
        Options(), ranking=Ranking(confidence="coverage")
    ),
    "strength (BM25F score over a title with every word; shipped)": Options(),
}
SETS = ("kb_questions.jsonl", "kb_questions_b.jsonl")


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    needs: tuple[tuple[str, ...], ...]
    split: str
    set: str = ""  # the question set's file name


def load(path: Path) -> list[Question]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        Question(r["id"], r["question"], tuple(tuple(g) for g in r["needs"]), r["split"],
                 path.name)
        for r in rows
    ]  # fmt: skip


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
    store: KnowledgeStore,
    questions: list[Question],
    docs: Path,
    variants: dict[str, Options],
    misses: bool,
) -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    names = list(variants)
    for name in names:
        kb = KnowledgeBase(store, variants[name])
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


def table(results: dict[str, dict[str, object]], docs: Path, questions: str) -> list[str]:
    header = " | ".join(f"{split} R@{k}" for split in ("dev", "held-out") for k in KS)
    lines = [f"| {questions} | {header} |", "|---|---|---|---|---|---|---|"]
    for name, result in results.items():
        cells = []
        for split in ("dev", "held-out"):
            rows = [(q, r) for q, r in result["rows"]  # type: ignore[attr-defined]
                    if q.needs and q.split == split and q.set == questions]  # fmt: skip
            for k in KS:
                cells.append(f"{sum(recall(q, r, k, docs) for q, r in rows) / len(rows):.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


CURVE = (0.2, 0.25, 0.35, 0.4, 0.45, 0.5)  # other thresholds a deployment might choose


def threshold(
    rows: list[tuple[Question, Retrieval]], shipped: float, curve: tuple[float, ...] = ()
) -> list[str]:
    """The threshold chosen on the dev halves of every set, and its trade-off per set and
    half, then the same at the shipped threshold and at each of `curve`."""
    dev = [(bool(q.needs), r.confidence) for q, r in rows if q.split == "dev"]
    candidates = sorted({c for _, c in dev} | {0.0})

    def right(pairs: list[tuple[bool, float]], t: float) -> int:
        return sum((c >= t) == answerable for answerable, c in pairs)

    best = max(candidates, key=lambda t: (right(dev, t), -t))
    # halfway to the next confidence seen on dev, so the threshold is not a dev question's own
    above = [c for c in candidates if c > best]
    lower = max([c for c in candidates if c < best], default=0.0)
    chosen = round((lower + best) / 2, 3) if above or lower else best
    lines = []
    others = [(f"{t:.2f}", t) for t in curve]
    for label, t in [(f"chosen on dev: {chosen}", chosen), (f"shipped: {shipped}", shipped),
                     *others]:  # fmt: skip
        cells = []
        for name in sorted({q.set for q, _ in rows}):
            for split in ("dev", "held-out"):
                pairs = [(bool(q.needs), r.confidence) for q, r in rows
                         if q.set == name and q.split == split]  # fmt: skip
                unanswerable = [c for a, c in pairs if not a]
                answerable = [c for a, c in pairs if a]
                caught = sum(c < t for c in unanswerable)
                refused = sum(c < t for c in answerable)
                cells.append(f"{caught}/{len(unanswerable)} {refused}/{len(answerable)}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    aucs = []
    for name in sorted({q.set for q, _ in rows}):
        for split in ("dev", "held-out"):
            pairs = [(bool(q.needs), r.confidence) for q, r in rows
                     if q.set == name and q.split == split]  # fmt: skip
            aucs.append(f"{auc(pairs):.2f}")
    lines.append("| AUC | " + " | ".join(aucs) + " |")
    return lines


def auc(pairs: list[tuple[bool, float]]) -> float:
    """The chance that an answerable question's confidence is above an unanswerable one's."""
    yes = [c for a, c in pairs if a]
    no = [c for a, c in pairs if not a]
    wins = sum((y > n) + 0.5 * (y == n) for y in yes for n in no)
    return wins / (len(yes) * len(no)) if yes and no else float("nan")


async def run(args: argparse.Namespace, docs: Path) -> None:
    paths = [Path(p) for p in args.questions or [ROOT / "bench/data" / n for n in SETS]]
    questions = [q for path in paths for q in load(path)]
    names = [n for n in VARIANTS if not args.variants or n in args.variants.split(";")]
    for path in paths:
        asked = [q for q in questions if q.set == path.name]
        answerable = sum(bool(q.needs) for q in asked)
        print(f"{path.name}: {len(asked)} questions ({answerable} answerable, "
              f"{len(asked) - answerable} not)")  # fmt: skip
    print(f"docs {docs}")
    shipped = KnowledgeConfig().min_confidence
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
            print(f"\n## {label} (indexed in {seconds:.1f} s)")
            variants = {n: VARIANTS[n] for n in names}
            results = await evaluate(store, questions, docs, variants, args.misses)
            for path in paths:
                print()
                print("\n".join(table(results, docs, path.name)))
            print(f"\nConfidence: caught/unanswerable wrongly refused/answerable ("
                  f"{label}), threshold chosen on the dev halves of every set\n")  # fmt: skip
            cells = " | ".join(f"{p.name} {split}" for p in sorted(paths) for split in
                               ("dev", "held-out"))  # fmt: skip
            confidences = await evaluate(store, questions, docs, CONFIDENCES, False)
            for name, result in confidences.items():
                print(f"| {name} | {cells} |")
                print("|---" * (1 + 2 * len(paths)) + "|")
                curve = CURVE if name == list(CONFIDENCES)[-1] else ()
                rows = result["rows"]
                print("\n".join(threshold(rows, shipped, curve)))  # type: ignore[arg-type]
                print()
            await store.close()
            await store.db.dispose()
    finally:
        if len(backends) > 1:
            admin = create_engine(pg)
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
        folder.cleanup()


def on_docs(description: str, run: Callable[[Path], Coroutine[Any, Any, None]]) -> None:
    """The command line of a bench over one folder of documents: `--docs DIR`, then `run`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--docs", default=str(DOCS))
    asyncio.run(run(Path(parser.parse_args().docs).resolve()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", default=str(DOCS))
    parser.add_argument(
        "--questions",
        action="append",
        default=[],
        help="a labelled question set (repeat it; default: both of ours)",
    )
    parser.add_argument("--postgres", default="")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--variants", default="")
    parser.add_argument("--misses", action="store_true", help="print the last variant's misses")
    args = parser.parse_args()
    asyncio.run(run(args, Path(args.docs).resolve()))


if __name__ == "__main__":
    main()
