"""Decision latency (p50/p99) of the shipped analyzer and of a deployment-tuned one, measured on
the same 10,000 dataset queries, interleaved query by query so machine load hits both alike.
Wall-clock time and the thread's CPU time are both reported: on a shared, loaded machine the
wall-clock tail is mostly time spent waiting for a core, which the CPU time leaves out.

The tuned model is fitted (tune()) on a hidden-rule replay over all 150 clinc150 intents with
`--labels` judged questions (its vocabulary holds the training part of those labels).

Run: .venv/bin/python bench/bench_routing.py --data-dir ../shared/data [--labels 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from routing.analyzer.scorer import Analysis, QueryAnalyzer
from routing.learning import tune
from routing.learning.replay import Traffic, hidden_rule_replay
from routing.training.datasets import load_examples, load_intents

N_QUERIES = 10_000
Score = Callable[[str, Sequence[str]], Analysis]


def percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    n = len(ordered)
    return (f"p50 {ordered[n // 2]:.1f} us, p99 {ordered[int(n * 0.99)]:.1f} us, "
            f"max {ordered[-1]:.1f} us")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labels", type=int, default=2000, help="judged questions to tune on")
    args = parser.parse_args()

    texts = [ex.text for ex in load_examples(args.data_dir, args.seed)]
    intents = load_intents(args.data_dir, "clinc150")
    rng = random.Random(args.seed)
    replay = hidden_rule_replay(
        intents, seed=args.seed, traffic=Traffic(intents=None, labelled=args.labels, fresh=1000)
    )
    # Deployment traffic and everything else, mixed; every tenth query is a follow-up.
    pool = texts + [q.text for q in replay.fresh] * 10
    queries = [rng.choice(pool) for _ in range(N_QUERIES)]
    threads = [[rng.choice(pool)] if i % 10 == 0 else [] for i in range(N_QUERIES)]

    load_start = time.perf_counter()
    base = QueryAnalyzer.load()
    load_ms = (time.perf_counter() - load_start) * 1000
    fit_start = time.perf_counter()
    result = tune(base, replay.labelled, seed=args.seed)
    fit_s = time.perf_counter() - fit_start
    tuned = result.analyzer(base)
    size = len(json.dumps(result.model)) // 1000 if result.model else 0

    scorers: dict[str, Score] = {"base": base.score, "tuned": tuned.score}
    timings: dict[str, list[float]] = {name: [] for name in scorers}
    cpu: dict[str, list[float]] = {name: [] for name in scorers}
    for i, (query, thread) in enumerate(zip(queries, threads, strict=True)):
        order = list(scorers) if i % 2 == 0 else list(reversed(scorers))
        for name in order:
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            scorers[name](query, thread)
            cpu[name].append((time.thread_time_ns() - start_cpu) / 1000)
            timings[name].append((time.perf_counter_ns() - start) / 1000)
    chars = statistics.mean(len(q) for q in queries)
    print(f"queries: {N_QUERIES} (mean {chars:.0f} chars; 10% with one-message thread context)")
    print(f"base model load: {load_ms:.1f} ms")
    print(f"tune on {len(replay.labelled)} labels: {fit_s:.1f} s, model {size} KB of JSON, "
          f"adopted={result.adopted}")  # fmt: skip
    for name, values in timings.items():
        print(f"{name:>5} wall: {percentiles(values)}")
        print(f"{name:>5} CPU:  {percentiles(cpu[name])}")
    print(f"load average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
