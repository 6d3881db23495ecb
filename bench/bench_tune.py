"""Wall and CPU time of `router tune` (the guard's decision) as the judged labels grow.

Run: .venv/bin/python bench/bench_tune.py [--data-dir ../shared/data] [--labels 140 1000 10000]
     [--seed 0]

The labels are the ones `bench_memory_routing.py` builds: real support wordings (clinc150 and
banking77, seeded) judged by the simulated judge of `routing.learning.replay` (a seeded third of
the intents need premium); the first N of one shuffled list, so a larger run holds the smaller
ones. Each size is one call of `tuning.tune` (grouping, leave-one-group-out scoring, the metrics'
bootstrap and the deciding spread), timed by wall clock and by this process's CPU time; the
deciding spread (`spread.gain_spread`) is timed again on its own with the same inputs, all its
rounds (`TuneSettings.spread_rounds`) without stopping early. The load average is printed before
and after each size.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit import loadavg  # noqa: E402

from routing.analyzer.scorer import QueryAnalyzer  # noqa: E402
from routing.learning.crossfit import near_duplicate_groups  # noqa: E402
from routing.learning.examples import (  # noqa: E402
    LabelledExample,
    example_from_comparison,
    judge_quality,
)
from routing.learning.replay import JUDGE  # noqa: E402
from routing.learning.spread import gain_spread  # noqa: E402
from routing.learning.tuning import TuneSettings, out_of_group, outcome_of, tune  # noqa: E402
from routing.training.datasets import load_intents  # noqa: E402


def judged(data_dir: Path, n: int, seed: int) -> list[LabelledExample]:
    rng = random.Random(seed)
    wordings = [(f"{name}:{intent}", text) for name in ("clinc150", "banking77")
                for intent, texts in load_intents(data_dir, name).items()
                for text in texts]  # fmt: skip
    rng.shuffle(wordings)
    intents = sorted({intent for intent, _ in wordings})
    premium = set(rng.sample(intents, len(intents) // 3))
    examples = []
    for intent, text in wordings[:n]:
        (cm, cs), (pm, ps) = JUDGE[intent in premium]
        cheap = judge_quality(min(max(round(rng.gauss(cm, cs)), 1), 10))
        strong = judge_quality(min(max(round(rng.gauss(pm, ps)), 1), 10))
        examples.append(example_from_comparison(text, cheap, strong))
    return examples


def spread_alone(base: QueryAnalyzer, examples: list[LabelledExample], seed: int) -> float:
    """Seconds of the deciding spread alone, on the inputs `tune` gives it."""
    settings = TuneSettings()
    groups = near_duplicate_groups([ex.text for ex in examples])
    memory, _, hoods = out_of_group(base, examples, groups, settings.memory)
    before = [base.score(ex.text, ex.context, ex.retrieval).score for ex in examples]
    outcomes = [outcome_of(ex, False) for ex in examples]
    started = time.perf_counter()
    gain_spread(memory, hoods, before, outcomes, groups, [ex.retrieval for ex in examples],
                [0.0] * len(examples), seed=seed, rounds=settings.spread_rounds,
                target=settings.quality_target)  # fmt: skip
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--labels", type=int, nargs="+", default=[140, 1000, 10_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        parser.error(f"no data directory at {args.data_dir}")
    if any(n < 1 for n in args.labels):
        parser.error("--labels must be positive")
    base = QueryAnalyzer.load()
    base.score("warm up the caches")
    for n in args.labels:
        examples = judged(args.data_dir, n, args.seed)
        load = loadavg()
        wall, cpu = time.perf_counter(), time.process_time()
        result = tune(base, examples, seed=args.seed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        spread = spread_alone(base, examples, args.seed)
        print(f"{len(examples):>6} labels ({result.questions} questions): tune {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU (spread, all rounds: {spread:.2f} s); adopted={result.adopted}; "
              f"load {load} -> {loadavg()}", flush=True)  # fmt: skip
        print(f"        {result.reason}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
