"""`switchboard router replay`: tune on a deployment's labels, score the questions it has not
labelled; simulated labels over real wordings (clinc150, banking77) or real graded answers
(mmlu, gsm8k, arena). docs/routing.md has what it measured."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from routing.analyzer.scorer import QueryAnalyzer

if TYPE_CHECKING:
    from routing.learning.report import ReplayRun

INTENT_SETS = ("clinc150", "banking77")
GRADED_SETS = ("mmlu", "gsm8k", "arena")
Command = Callable[[argparse.Namespace], int]


def add_replay(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    guarded: Callable[[Command], Command],
    data_help: str,
) -> None:
    rep = commands.add_parser(
        "replay",
        help="tune on a deployment's labels, score questions it has not labelled: simulated "
        "labels (clinc150, banking77) or real graded answers (mmlu, gsm8k, arena)",
    )
    rep.add_argument("--data-dir", type=Path, help=data_help)
    rep.add_argument("--dataset", choices=(*INTENT_SETS, *GRADED_SETS), default="clinc150")
    rep.add_argument("--signals", choices=("shadow", "escalation"), default="shadow",
                     help="simulated replays only")  # fmt: skip
    rep.add_argument("--seeds", type=int, default=10, help="replays with seeds S..S+N-1")
    rep.add_argument("--first-seed", type=int, default=0, help="S (default 0)")
    rep.add_argument("--intents", type=int, default=20, help="intents the deployment sees")
    rep.add_argument("--subjects", type=int, default=None,
                     help="real labels: MMLU subjects seen (default: all)")  # fmt: skip
    rep.add_argument("--labels", type=int, default=300)
    rep.add_argument("--noise-runs", type=int, default=0, help="shuffled-label tunes per seed")
    rep.set_defaults(func=guarded(run_replay))



def run_replay(args: argparse.Namespace) -> int:
    from routing.learning.replay import Traffic
    from routing.learning.report import run_benchmark_replay
    from routing.learning.report import run_replay as replay_once
    from routing.training.datasets import load_arena, load_gsm8k, load_intents, load_mmlu

    base = QueryAnalyzer.load()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    replays: Callable[[int], ReplayRun]
    if args.dataset in INTENT_SETS:
        intents = load_intents(args.data_dir, args.dataset)
        traffic = Traffic(intents=args.intents, labelled=args.labels)
        print(f"{args.dataset}, {args.intents} intents, {args.labels} {args.signals} labels")

        def replays(seed: int) -> ReplayRun:
            return replay_once(base, intents, seed=seed, signals=args.signals, traffic=traffic,
                               noise_runs=args.noise_runs)  # fmt: skip

    else:
        load = {"mmlu": load_mmlu, "gsm8k": load_gsm8k, "arena": load_arena}[args.dataset]
        questions = [q for q in load(args.data_dir) if q.heldout]
        scope = f"{args.subjects} subjects" if args.subjects else "all subjects"
        print(f"{args.dataset} held-out questions ({len(questions)}), {scope}, {args.labels} "
              "labels from real graded answers")  # fmt: skip

        def replays(seed: int) -> ReplayRun:
            return run_benchmark_replay(
                base, questions, seed=seed, labelled=args.labels, subjects=args.subjects,
                noise_runs=args.noise_runs,
            )  # fmt: skip

    print(f"{'seed':>4} {'APGR before':>11} {'after':>6} {'gain before':>11} {'after':>6} "
          f"{'saved before':>12} {'after':>6} {'adopted':>7} {'eval n':>6} "
          f"{'noise adopted':>13}")  # fmt: skip
    runs = []
    for seed in seeds:
        try:
            run = replays(seed)
        except ValueError as error:
            print(f"switchboard: router replay: {error}", file=sys.stderr)
            return 2
        runs.append(run)
        print(f"{seed:>4} {run.before.apgr:>11.3f} {run.after.apgr:>6.3f} "
              f"{run.before.gain_ratio:>11.3f} {run.after.gain_ratio:>6.3f} "
              f"{run.before.savings:>12.3f} {run.after.savings:>6.3f} {run.adopted!s:>7} "
              f"{run.fresh:>6} {sum(run.noise_adopted):>6}/{len(run.noise_adopted)}")  # fmt: skip
    _summarise(runs)
    return 0


def _summarise(runs: Sequence[ReplayRun]) -> None:
    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values)

    gains = [r.after.gain_ratio for r in runs]
    noise = [adopted for r in runs for adopted in r.noise_adopted]
    adopted = [r for r in runs if r.adopted]
    print(f"gain ratio after tuning: mean {mean(gains):.3f}, min {min(gains):.3f}, "
          f">= 0.9 in {sum(g >= 0.9 for g in gains)}/{len(gains)}; base mean "
          f"{mean([r.before.gain_ratio for r in runs]):.3f}")  # fmt: skip
    doubled = sum(r.after.savings >= 2 * r.before.savings for r in runs)
    print(f"savings at 95% quality: mean {mean([r.before.savings for r in runs]):.3f} -> "
          f"{mean([r.after.savings for r in runs]):.3f}, doubled in "
          f"{doubled}/{len(runs)}; adopted {len(adopted)}/{len(runs)}")  # fmt: skip
    print(f"APGR: mean {mean([r.before.apgr for r in runs]):.3f} -> candidate "
          f"{mean([r.after.apgr for r in runs]):.3f}, as deployed "
          f"{mean([r.deployed.apgr for r in runs]):.3f}; adopted runs where APGR fell: "
          f"{sum(r.after.apgr < r.before.apgr for r in adopted)}/{len(adopted)} (worst "
          f"{min([r.after.apgr - r.before.apgr for r in adopted], default=0.0):+.3f})")  # fmt: skip
    if noise:
        print(f"noise labels refused in {len(noise) - sum(noise)}/{len(noise)} tunes")
