"""Decision latency of QueryAnalyzer.score over 10,000 dataset queries (p50/p99).

Run: .venv/bin/python bench/bench_routing.py [--data-dir ../shared/data]

Wall time, and this thread's CPU time per decision: on a shared machine the wall-time tail is
mostly time the process was not scheduled; the CPU time is what the decision itself costs.
Needs the [train] extra (it reads the dataset with routing.training.fit).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing.analyzer.scorer import QueryAnalyzer  # noqa: E402
from routing.training.fit import load_examples  # noqa: E402

N_QUERIES = 10_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    texts = [ex.text for ex in load_examples(args.data_dir, args.seed)]
    rng = random.Random(args.seed)
    queries = [rng.choice(texts) for _ in range(N_QUERIES)]
    # Every tenth query is a follow-up, so thread rescoring is part of the measurement.
    threads = [[rng.choice(texts)] if i % 10 == 0 else [] for i in range(N_QUERIES)]

    load_start = time.perf_counter()
    analyzer = QueryAnalyzer.load()
    load_ms = (time.perf_counter() - load_start) * 1000

    timings, cpu = [], []
    for query, thread in zip(queries, threads, strict=True):
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        analyzer.score(query, thread)
        cpu.append((time.thread_time_ns() - start_cpu) / 1000)
        timings.append((time.perf_counter_ns() - start) / 1000)
    timings.sort()
    cpu.sort()
    chars = statistics.mean(len(q) for q in queries)
    print(f"queries: {N_QUERIES} (mean {chars:.0f} chars; 10% with one-message thread context)")
    print(f"model load: {load_ms:.1f} ms")
    print(f"p50: {timings[N_QUERIES // 2]:.1f} us")
    print(f"p99: {timings[int(N_QUERIES * 0.99)]:.1f} us")
    print(f"max: {timings[-1]:.1f} us")
    print(
        f"CPU time p50 / p99 / max: {cpu[N_QUERIES // 2]:.1f} / "
        f"{cpu[int(N_QUERIES * 0.99)]:.1f} / {cpu[-1]:.1f} us"
    )
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
