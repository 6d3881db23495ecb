"""Decision latency of QueryAnalyzer.score over 10,000 dataset queries (p50/p99).

Run: .venv/bin/python bench/bench_routing.py [--data-dir ../shared/data] [--repeat 3]
     /work/old/.venv/bin/python bench/bench_routing.py --tree /work/old     # the old layout
     .venv/bin/python bench/bench_routing.py --tuned-labels 2000    # also a deployment-tuned one

Each query's wall time and the thread's CPU time are both recorded: on a shared machine the
wall-time tail is mostly other processes' time slices, and the CPU-time percentiles show what
the analyzer itself costs. `--tree` measures another checkout (run it with that tree's venv);
both the current layout (`routing.analyzer.scorer`) and the pre-restructure one
(`routing.analyzer`, commit 6e02e66) are understood. `--tuned-labels N` (current tree only) also
tunes a correction on a hidden-rule replay of N judged clinc150 questions (all 150 intents),
mixes that deployment's fresh wordings into the queries (about 40%), and times the shipped and
the tuned analyzer on the same queries, interleaved.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from toolkit import loadavg, percentile

ROOT = Path(__file__).resolve().parents[1]
N_QUERIES = 10_000
# (analyzer module, training module) per code layout, newest first.
LAYOUTS = (
    ("routing.analyzer.scorer", "routing.training.datasets"),
    ("routing.analyzer.scorer", "routing.training.fit"),
    ("routing.analyzer", "routing.analyzer_training"),
)


def load_code(tree: Path) -> tuple[Any, Any]:
    """(QueryAnalyzer, load_examples) from `tree`, whichever layout it has."""
    sys.path.insert(0, str(tree))
    for analyzer_module, training_module in LAYOUTS:
        try:
            analyzer = importlib.import_module(analyzer_module)
            training = importlib.import_module(training_module)
            return analyzer.QueryAnalyzer, training.load_examples
        except (ImportError, AttributeError):
            continue
    sys.exit(f"error: no QueryAnalyzer in {tree} (run with that tree's venv python)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="passes over the queries")
    parser.add_argument("--tuned-labels", type=int, default=0, help="also time a tuned analyzer")
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        parser.error(f"no data directory at {args.data_dir}")
    query_analyzer, load_examples = load_code(args.tree.resolve())

    texts = [ex.text for ex in load_examples(args.data_dir, args.seed)]
    if args.tuned_labels:
        return tuned_main(args, query_analyzer.load(), texts)
    rng = random.Random(args.seed)
    queries = [rng.choice(texts) for _ in range(N_QUERIES)]
    # Every tenth query is a follow-up, so thread rescoring is part of the measurement.
    threads = [[rng.choice(texts)] if i % 10 == 0 else [] for i in range(N_QUERIES)]

    load_start = time.perf_counter()
    analyzer = query_analyzer.load()
    load_ms = (time.perf_counter() - load_start) * 1000
    chars = statistics.mean(len(q) for q in queries)
    print(f"tree: {args.tree}")
    print(f"queries: {N_QUERIES} (mean {chars:.0f} chars; 10% with one-message thread context)")
    print(f"model load: {load_ms:.1f} ms")

    for run in range(1, args.repeat + 1):
        wall, cpu = [], []
        for query, thread in zip(queries, threads, strict=True):
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            analyzer.score(query, thread)
            cpu.append((time.thread_time_ns() - start_cpu) / 1000)
            wall.append((time.perf_counter_ns() - start) / 1000)
        wall.sort()
        cpu.sort()
        print(f"run {run}: load average {loadavg()}")
        print(f"  wall p50: {percentile(wall, 0.5):.1f} us  p99: {percentile(wall, 0.99):.1f} us"
              f"  max: {wall[-1]:.1f} us")  # fmt: skip
        print(f"  cpu  p50: {percentile(cpu, 0.5):.1f} us  p99: {percentile(cpu, 0.99):.1f} us"
              f"  max: {cpu[-1]:.1f} us")  # fmt: skip
    return 0


def tuned_main(args: argparse.Namespace, base: Any, texts: list[str]) -> int:
    from routing.learning import tune
    from routing.learning.replay import Traffic, hidden_rule_replay
    from routing.training.datasets import load_intents

    replay = hidden_rule_replay(
        load_intents(args.data_dir, "clinc150"),
        seed=args.seed,
        traffic=Traffic(intents=None, labelled=args.tuned_labels, fresh=1000),
    )
    pool = texts + [q.text for q in replay.fresh] * 10
    rng = random.Random(args.seed)
    queries = [rng.choice(pool) for _ in range(N_QUERIES)]
    threads = [[rng.choice(pool)] if i % 10 == 0 else [] for i in range(N_QUERIES)]
    fit_start = time.perf_counter()
    result = tune(base, replay.labelled, seed=args.seed)
    fit_s = time.perf_counter() - fit_start
    scorers = {"base": base, "tuned": result.analyzer(base)}
    size = len(json.dumps(result.model)) // 1000 if result.model else 0
    print(f"queries: {N_QUERIES} (mean {statistics.mean(len(q) for q in queries):.0f} chars; "
          f"10% with one-message thread context)")  # fmt: skip
    print(f"tune on {len(replay.labelled)} labels: {fit_s:.1f} s, model {size} KB of JSON, "
          f"adopted={result.adopted}")  # fmt: skip
    for run in range(1, args.repeat + 1):
        wall: dict[str, list[float]] = {name: [] for name in scorers}
        cpu: dict[str, list[float]] = {name: [] for name in scorers}
        for i, (query, thread) in enumerate(zip(queries, threads, strict=True)):
            for name in list(scorers) if i % 2 == 0 else list(reversed(scorers)):
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                scorers[name].score(query, thread)
                cpu[name].append((time.thread_time_ns() - start_cpu) / 1000)
                wall[name].append((time.perf_counter_ns() - start) / 1000)
        print(f"run {run}: load average {loadavg()}")
        for name in scorers:
            for clock, values in (("wall", sorted(wall[name])), ("cpu ", sorted(cpu[name]))):
                p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
                print(f"  {name:>5} {clock} p50: {p50:.1f} us  p99: {p99:.1f} us  "
                      f"max: {values[-1]:.1f} us")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
