"""Retrieval-aware routing, measured as a replay: does `router tune` learn how far a strong
passage should lower a question's score, and only when that is true of the deployment?

SIMULATED JUDGE, REAL RETRIEVAL. Offline there are no models to compare, so whether the budget
answer matched premium is drawn, and only that is simulated:
- the questions are the labelled docs set (bench/data/kb_questions.jsonl, dev and held-out
  halves; 24 of 130 are not answered by the docs);
- each question's retrieval is real: the shipped search over Mastodon's docs
  (../shared/data/kb/mastodon-docs, indexed in a temporary SQLite file), its
  `Retrieval.confidence`, and whether a page the question needs is among the passages the model
  would be given (confidence at or above KB_MIN_CONFIDENCE, top KB_PASSAGES passages);
- world "depends" (assumed): premium does better on 15% of questions whose answering passage was
  given, on 70% of the others; world "independent": on the same overall share, whatever was
  retrieved. The judge's 1-10 scores then follow routing/learning/replay.py's JUDGE.
Each seed draws a world, tunes on one half's judged comparisons (each label carrying its
question's confidence) and scores the other half (then the halves swap), by the shipped
analyzer and by the tuned version given the same confidences. A real measurement needs real
models: shadow comparisons on the deployment's own traffic (docs/routing.md).

    .venv/bin/python bench/retrieval_routing.py [--docs ../shared/data/kb/mastodon-docs]
        [--questions bench/data/kb_questions.jsonl] [--seeds 10] [--first-seed 0] [--repeats 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.knowledge.folders import FolderReader  # noqa: E402
from bot.knowledge.config import KnowledgeConfig  # noqa: E402
from bot.knowledge.ingest import Ingest  # noqa: E402
from bot.knowledge.retrieval import KnowledgeBase  # noqa: E402
from routing.analyzer.scorer import QueryAnalyzer  # noqa: E402
from routing.learning import example_from_comparison, tune  # noqa: E402
from routing.learning.examples import judge_quality  # noqa: E402
from routing.learning.metrics import Outcome, point_metrics  # noqa: E402
from routing.learning.replay import JUDGE  # noqa: E402
from storage.database import create_engine, upgrade  # noqa: E402
from storage.knowledge import KnowledgeStore  # noqa: E402

WORLDS = {"depends": (0.15, 0.70), "independent": None}  # P(premium better | given, not given)


@dataclass(frozen=True)
class Searched:
    text: str
    split: str
    confidence: float
    given: bool  # a page it needs is among the passages the model would be given


async def search_all(docs: Path, rows: list[dict[str, Any]]) -> list[Searched]:
    config = KnowledgeConfig()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/kb.db")
        await upgrade(engine)
        store = KnowledgeStore(engine)
        report = await Ingest(store, FolderReader()).add([str(docs)], "default", None)
        assert not report.problems, report.problems
        kb = KnowledgeBase(store)
        found = []
        for row in rows:
            r = await kb.search(row["question"], k=config.passages)
            pages = {Path(p.name).as_posix() for p in r.passages}
            hit = any(page in pages for group in row["needs"] for page in group)
            given = hit and r.answers(config.min_confidence)
            found.append(Searched(row["question"], row["split"], r.confidence, given))
        await store.close()
        await engine.dispose()
    return found


def draw(rng: random.Random, questions: list[Searched], world: str) -> list[bool]:
    """Whether premium does better on each question, in this world."""
    rates = WORLDS[world]
    if rates is None:  # the same overall share as "depends", whatever the retrieval
        given, other = WORLDS["depends"] or (0.0, 0.0)
        share = sum(given if q.given else other for q in questions) / len(questions)
        return [rng.random() < share for _ in questions]
    return [rng.random() < (rates[0] if q.given else rates[1]) for q in questions]


def judged(rng: random.Random, needs: bool) -> tuple[float, float]:
    (cheap_mean, cheap_sd), (premium_mean, premium_sd) = JUDGE[needs]
    cheap = min(max(round(rng.gauss(cheap_mean, cheap_sd)), 1), 10)
    premium = min(max(round(rng.gauss(premium_mean, premium_sd)), 1), 10)
    return judge_quality(cheap), judge_quality(premium)


def run_seed(
    base: QueryAnalyzer, questions: list[Searched], world: str, seed: int, repeats: int
) -> list[str]:
    rng = random.Random(seed)
    needs = draw(rng, questions, world)
    lines = []
    for train, test in (("dev", "held-out"), ("held-out", "dev")):
        labels = [
            example_from_comparison(q.text, *judged(rng, need), retrieval=q.confidence)
            for q, need in zip(questions, needs, strict=True) if q.split == train
            for _ in range(repeats)
        ]  # fmt: skip
        result = tune(base, labels, seed=seed)
        tuned = result.analyzer(base)
        unseen = [(q, need) for q, need in zip(questions, needs, strict=True) if q.split == test]
        outcomes = [Outcome(0.0 if need else 1.0, 1.0) for _, need in unseen]
        before = point_metrics([base.score(q.text).score for q, _ in unseen], outcomes).apgr
        after = point_metrics([tuned.score(q.text, (), q.confidence).score for q, _ in unseen],
                              outcomes).apgr  # fmt: skip
        # The same version without its retrieval weight: what the weight itself adds.
        memory = point_metrics([tuned.score(q.text).score for q, _ in unseen], outcomes).apgr
        oracle = point_metrics([float(need) for _, need in unseen], outcomes).apgr
        deployed = after if result.adopted else before
        lines.append(f"{world:>11} {seed:>4} {train:>8} {len(labels):>6} "
                     f"{result.retrieval_weight:>6.2f} {result.adopted!s:>7} {before:>6.3f} "
                     f"{after:>6.3f} {deployed:>8.3f} {oracle:>6.3f} {memory:>9.3f}")  # fmt: skip
    # Every label at once: no unseen half is left, so the guard's own out-of-fold comparison.
    labels = [example_from_comparison(q.text, *judged(rng, need), retrieval=q.confidence)
              for q, need in zip(questions, needs, strict=True)
              for _ in range(repeats)]  # fmt: skip
    result = tune(base, labels, seed=seed)
    if result.comparison is not None:
        c = result.comparison
        lines.append(f"{world:>11} {seed:>4} {'all':>8} {len(labels):>6} "
                     f"{result.retrieval_weight:>6.2f} {result.adopted!s:>7} "
                     f"{c.before.apgr.estimate:>6.3f} {c.after.apgr.estimate:>6.3f} "
                     f"{'(out of fold)':>15}")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=ROOT.parent / "shared/data/kb/mastodon-docs")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench/data/kb_questions.jsonl")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1,
                        help="judged comparisons per question (support questions come back)")
    args = parser.parse_args()
    if not args.docs.is_dir():
        sys.exit(f"no documents at {args.docs}: pass --docs")
    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    questions = asyncio.run(search_all(args.docs, rows))
    given = [q.confidence for q in questions if q.given]
    other = [q.confidence for q in questions if not q.given]
    auc = sum((g > o) + 0.5 * (g == o) for g in given for o in other) / max(
        len(given) * len(other), 1
    )
    print(f"{len(questions)} questions; answering passage given for {len(given)}; mean "
          f"confidence {sum(given) / max(len(given), 1):.3f} when given, "
          f"{sum(other) / max(len(other), 1):.3f} otherwise (AUC {auc:.3f}); "
          f"{args.repeats} judged comparison(s) per question")  # fmt: skip
    base = QueryAnalyzer.load()
    print(f"{'world':>11} {'seed':>4} {'tuned on':>8} {'labels':>6} {'weight':>6} "
          f"{'adopted':>7} {'APGR':>6} {'tuned':>6} {'deployed':>8} {'oracle':>6} "
          f"{'no weight':>9}  (APGR on the other half)")  # fmt: skip
    for world in WORLDS:
        rows = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for line in run_seed(base, questions, world, seed, args.repeats):
                print(line, flush=True)
                rows.append(line.split())
        for scope in ("half", "all"):
            chosen = [r for r in rows if (r[2] == "all") == (scope == "all")]
            weights = [float(r[4]) for r in chosen]
            adopted = sum(r[5] == "True" for r in chosen)

            def mean(column: int, chosen: list[list[str]] = chosen) -> float:
                return sum(float(r[column]) for r in chosen) / len(chosen)

            what = (f"unseen half: APGR {mean(6):.3f} -> tuned {mean(7):.3f} (without its "
                    f"retrieval weight {mean(10):.3f}), deployed {mean(8):.3f}, oracle "
                    f"{mean(9):.3f}" if scope == "half" else
                    f"out of fold: APGR {mean(6):.3f} -> {mean(7):.3f}")  # fmt: skip
            print(f"{world}, tuned on {'one half' if scope == 'half' else 'both halves'}: weight "
                  f"mean {sum(weights) / len(weights):.2f} (0 in {sum(w == 0 for w in weights)}"
                  f"/{len(weights)}), adopted {adopted}/{len(chosen)}; {what}")  # fmt: skip


if __name__ == "__main__":
    main()
