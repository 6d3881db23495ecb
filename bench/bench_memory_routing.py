"""Decision latency and memory of a router version holding 10,000 judged questions.

Run: .venv/bin/python bench/bench_memory_routing.py [--data-dir ../shared/data] [--judged 10000]
     [--repeat 3] [--tune] [--write-version FILE]

The judged questions are real support wordings (clinc150 and banking77, all 227 intents, seeded)
with labels from the simulated judge of `routing.learning.replay` (a seeded third of the intents
need premium). The version goes through JSON as it does through the database, and is loaded the
way a replica loads it (`TunedAnalyzer.from_json`); the RSS it adds is measured in a fresh
process that loads the shipped analyzer and then the version (VmRSS after `gc.collect()`).
The 10,000 queries are drawn (seeded) from the analyzer's evaluation
prompts (MMLU, GSM8K, arena, support, FAQ) and from unjudged wordings of the same intents, half
each; every tenth has a one-message thread, every second a retrieval confidence (the version
weighs it with weight 2). Shipped and tuned analyzers score the same queries,
interleaved; wall time and the thread's CPU time are both printed. `--tune` also times the whole
guard (`router tune`: cross-fitting and the bootstrap) on those labels. `--write-version FILE`
writes the version's JSON (the `model` of a router version) for `bench_slack_load.py
--router-version FILE`, which makes it the active version of the bot it measures.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit import loadavg, percentile  # noqa: E402

from routing.analyzer.scorer import QueryAnalyzer, Scorer  # noqa: E402
from routing.learning.crossfit import fit_memory  # noqa: E402
from routing.learning.examples import example_from_comparison, judge_quality  # noqa: E402
from routing.learning.replay import JUDGE  # noqa: E402
from routing.learning.tuned import TunedAnalyzer  # noqa: E402
from routing.training.datasets import load_examples, load_intents  # noqa: E402

N_QUERIES = 10_000


# A fresh process, as a replica: the shipped analyzer loaded, then the version from its JSON.
REPLICA = """
import gc, json, sys
sys.path.insert(0, sys.argv[2])
from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.tuned import TunedAnalyzer
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
base = QueryAnalyzer.load()
base.score("warm up the caches")
gc.collect()
before = rss()
tuned = TunedAnalyzer.from_json(json.loads(open(sys.argv[1]).read()), base)
gc.collect()
print(f"replica RSS {before:.1f} -> {rss():.1f} MB (+{rss() - before:.1f} MB)")
"""


def replica_rss(raw: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as version:
        version.write(raw)
        version.flush()
        out = subprocess.run([sys.executable, "-c", REPLICA, version.name, str(ROOT)],
                             capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--judged", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--tune", action="store_true", help="also time the guard")
    parser.add_argument("--write-version", type=Path, help="write the version's JSON here")
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        parser.error(f"no data directory at {args.data_dir}")
    rng = random.Random(args.seed)
    wordings = [(f"{name}:{intent}", text) for name in ("clinc150", "banking77")
                for intent, texts in load_intents(args.data_dir, name).items()
                for text in texts]  # fmt: skip
    rng.shuffle(wordings)
    intents = sorted({intent for intent, _ in wordings})
    premium = set(rng.sample(intents, len(intents) // 3))
    examples = []
    for intent, text in wordings[: args.judged]:
        (cm, cs), (pm, ps) = JUDGE[intent in premium]
        cheap = judge_quality(min(max(round(rng.gauss(cm, cs)), 1), 10))
        strong = judge_quality(min(max(round(rng.gauss(pm, ps)), 1), 10))
        examples.append(example_from_comparison(text, cheap, strong))
    unjudged = [text for _, text in wordings[args.judged :]]
    prompts = [ex.text for ex in load_examples(args.data_dir, args.seed)]
    pool = [rng.choice(prompts if i % 2 else unjudged) for i in range(N_QUERIES)]
    threads = [[rng.choice(pool)] if i % 10 == 0 else [] for i in range(N_QUERIES)]
    # Half the questions were searched in a knowledge base: the version weighs the confidence.
    retrievals = [rng.random() if i % 2 else None for i in range(N_QUERIES)]

    base = QueryAnalyzer.load()
    if args.tune:
        from routing.learning.tuning import tune

        started = time.perf_counter()
        result = tune(base, examples, seed=args.seed)
        print(f"router tune on {len(examples)} labels: {time.perf_counter() - started:.1f} s; "
              f"{result.reason}")  # fmt: skip
    memory = fit_memory(examples, base_fingerprint=base.fingerprint, retrieval_weight=2.0)
    raw = json.dumps(memory.to_json())
    del memory, examples
    if args.write_version:
        args.write_version.write_text(raw)
        print(f"version written to {args.write_version} ({len(raw) / 1e6:.1f} MB of JSON)")
    started = time.perf_counter()
    tuned = TunedAnalyzer.from_json(json.loads(raw), base)
    load_s = time.perf_counter() - started
    print(f"judged questions: {args.judged}; version loaded in {load_s * 1000:.0f} ms; "
          f"{replica_rss(raw)}")  # fmt: skip
    del raw
    gc.collect()
    scorers: dict[str, Scorer] = {"base": base, "tuned": tuned}
    for run in range(1, args.repeat + 1):
        wall: dict[str, list[float]] = {name: [] for name in scorers}
        cpu: dict[str, list[float]] = {name: [] for name in scorers}
        for i, (query, thread, retrieval) in enumerate(
            zip(pool, threads, retrievals, strict=True)
        ):
            for name in list(scorers) if i % 2 == 0 else list(reversed(scorers)):
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                scorers[name].score(query, thread, retrieval)
                cpu[name].append((time.thread_time_ns() - start_cpu) / 1000)
                wall[name].append((time.perf_counter_ns() - start) / 1000)
        print(f"run {run}: load average {loadavg()}")
        for name in scorers:
            for clock, values in (("wall", sorted(wall[name])), ("cpu ", sorted(cpu[name]))):
                print(f"  {name:>5} {clock} p50: {percentile(values, 0.5):.1f} us  "
                      f"p99: {percentile(values, 0.99):.1f} us  max: {values[-1]:.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
