"""The issue's reference learner on our support replays: a plain TF-IDF nearest-neighbour vote
(word unigrams and bigrams + character 2-5-grams inside word boundaries, sublinear tf, smoothed
idf, cosine; the k most similar judged questions vote with weight cosine**power), next to the
shipped memory (`router tune`'s candidate fitted on the same labels), scored on the same unseen
wordings. Simulated judge over real wordings (routing/learning/replay.py); docs/routing.md.

    .venv/bin/python bench/learner_reference.py --data-dir ../shared/data [--shape issue]
        [--seeds 10] [--first-seed 0] [--k 20] [--power 2]
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.crossfit import fit_memory
from routing.learning.examples import LabelledExample
from routing.learning.replay import Traffic, issue_replay, measure, support_replay
from routing.learning.tuned import TunedAnalyzer
from routing.training.datasets import load_intents

WORD = re.compile(r"[a-z0-9']+")


def grams(text: str) -> Counter[str]:
    words = WORD.findall(text.lower())
    out: Counter[str] = Counter(words)
    out.update(" ".join(pair) for pair in itertools.pairwise(words))
    for word in words:
        padded = f" {word} "
        out.update("#" + padded[i : i + n] for n in range(2, 6) for i in range(len(padded) - n + 1))
    return out


class TfidfNeighbours:
    def __init__(self, labelled: Sequence[LabelledExample], k: int, power: float) -> None:
        counts = [grams(ex.text) for ex in labelled]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        n = len(counts)
        self.idf = {g: math.log((1 + n) / (1 + d)) + 1.0 for g, d in df.items()}
        self.vectors = [self.vector(c) for c in counts]
        self.labels = [ex.needs_premium for ex in labelled]
        self.k, self.power = k, power

    def vector(self, counts: Counter[str]) -> dict[str, float]:
        v = {g: (1.0 + math.log(c)) * self.idf[g] for g, c in counts.items() if g in self.idf}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {g: x / norm for g, x in v.items()}

    def score(self, text: str, fallback: float) -> float:
        q = self.vector(grams(text))
        sims = sorted(
            ((sum(x * v.get(g, 0.0) for g, x in q.items()), i) for i, v in enumerate(self.vectors)),
            reverse=True,
        )[: self.k]
        weights = [(max(s, 0.0) ** self.power, self.labels[i]) for s, i in sims]
        total = sum(w for w, _ in weights)
        return sum(w * y for w, y in weights) / total if total > 0 else fallback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--shape", choices=("traffic", "issue"), default="traffic")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--power", type=float, default=2.0)
    args = parser.parse_args()
    base = QueryAnalyzer.load()
    intents = {f"{name}:{intent}": texts for name in ("clinc150", "banking77")
               for intent, texts in load_intents(args.data_dir, name).items()}  # fmt: skip
    print(f"shape {args.shape}; TF-IDF kNN k={args.k}, weight cosine**{args.power:g}")
    print(f"{'seed':>4} {'scored':>6} {'base':>6} {'tfidf':>6} {'memory':>6}  (gain ratio)")
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if args.shape == "issue":
            replay = issue_replay(intents, base.difficulty, seed=seed)
        else:
            traffic = Traffic(intents=200, premium_share=0.35, labelled=140)
            replay = support_replay(intents, base.difficulty, seed=seed, traffic=traffic)
        fresh = replay.fresh
        base_scores = [base.score(q.text).score for q in fresh]
        reference = TfidfNeighbours(replay.labelled, args.k, args.power)
        memory = TunedAnalyzer(base, fit_memory(replay.labelled, base_fingerprint=base.fingerprint))
        row = (
            measure(base_scores, fresh).gain_ratio,
            measure([reference.score(q.text, b) for q, b in zip(fresh, base_scores, strict=True)],
                    fresh).gain_ratio,
            measure([memory.score(q.text).score for q in fresh], fresh).gain_ratio,
        )  # fmt: skip
        rows.append(row)
        print(f"{seed:>4} {len(fresh):>6} {row[0]:>6.3f} {row[1]:>6.3f} {row[2]:>6.3f}")
    means = [sum(col) / len(col) for col in zip(*rows, strict=True)]
    print(f"mean {'':>6} {means[0]:>6.3f} {means[1]:>6.3f} {means[2]:>6.3f}")


if __name__ == "__main__":
    main()
