"""`switchboard router replay`: tune on a deployment's labels, score the questions it has not
labelled; simulated labels over real wordings (clinc150, banking77, support: both as one
deployment's questions) or real graded answers (mmlu, gsm8k, arena). docs/routing.md has what
it measured."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from routing.analyzer.scorer import QueryAnalyzer

if TYPE_CHECKING:
    from routing.learning.report import ReplayRun

INTENT_SETS = ("clinc150", "banking77", "support")
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
                     help="clinc150 and banking77 only (support: judged comparisons)")
    rep.add_argument("--shape", choices=("traffic", "issue"), default="traffic",
                     help="support only: Zipf-like traffic over 200 questions, or the issue's "
                     "shape (70 questions, 2 judged wordings each, the third scored)")  # fmt: skip
    rep.add_argument("--seeds", type=int, default=10, help="replays with seeds S..S+N-1")
    rep.add_argument("--first-seed", type=int, default=0, help="S (default 0)")
    rep.add_argument("--intents", type=int, default=None,
                     help="intents (questions) the deployment sees (default 20; support: 200)")
    rep.add_argument("--subjects", type=int, default=None,
                     help="real labels: MMLU subjects seen (default: all)")  # fmt: skip
    rep.add_argument("--labels", type=int, default=None,
                     help="labelled questions (default 300; support: 140)")
    rep.add_argument("--early", type=int, default=0,
                     help="also tune on the first N labels and score the same questions")
    rep.add_argument("--noise-runs", type=int, default=0,
                     help="tunes per seed on shuffled labels, and as many on random labels")
    rep.set_defaults(func=guarded(run_replay))



def run_replay(args: argparse.Namespace) -> int:
    from routing.learning.replay import Traffic
    from routing.learning.report import run_benchmark_replay
    from routing.learning.report import run_replay as replay_once
    from routing.training.datasets import load_arena, load_gsm8k, load_intents, load_mmlu

    base = QueryAnalyzer.load()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    replays: Callable[[int], ReplayRun]
    support = args.dataset == "support"
    labels = args.labels or (140 if support else 300)
    if args.dataset in INTENT_SETS:
        intents = (
            {f"{name}:{intent}": texts for name in ("clinc150", "banking77")
             for intent, texts in load_intents(args.data_dir, name).items()}
            if support else load_intents(args.data_dir, args.dataset)
        )  # fmt: skip
        count = args.intents or (200 if support else 20)
        signals = ("issue" if args.shape == "issue" else "support") if support else args.signals
        traffic = (Traffic(intents=count, premium_share=0.35, labelled=labels) if support
                   else Traffic(intents=count, labelled=labels))  # fmt: skip
        if signals == "issue":
            print("support in the issue's shape: 70 questions, 2 judged wordings each (140 "
                  "labels), the third wording scored (simulated judge)")  # fmt: skip
        else:
            print(f"{args.dataset}, {count} intents, {labels} {signals} labels (simulated judge)")

        def replays(seed: int) -> ReplayRun:
            return replay_once(base, intents, seed=seed, signals=signals, traffic=traffic,
                               noise_runs=args.noise_runs, early=args.early)  # fmt: skip

    else:
        load = {"mmlu": load_mmlu, "gsm8k": load_gsm8k, "arena": load_arena}[args.dataset]
        questions = [q for q in load(args.data_dir) if q.heldout]
        scope = f"{args.subjects} subjects" if args.subjects else "all subjects"
        print(f"{args.dataset} held-out questions ({len(questions)}), {scope}, {labels} "
              "labels from real graded answers")  # fmt: skip

        def replays(seed: int) -> ReplayRun:
            return run_benchmark_replay(
                base, questions, seed=seed, labelled=labels, subjects=args.subjects,
                noise_runs=args.noise_runs,
            )  # fmt: skip

    early = f"{f'gain at {args.early}':>12}" if args.early else ""
    print(f"{'seed':>4} {'APGR before':>11} {'after':>6} {'gain before':>11} {'after':>6} "
          f"{'saved before':>12} {'after':>6} {'adopted':>7} {'eval n':>6} "
          f"{'noise adopted':>13} {'random':>6}{early}")  # fmt: skip
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
              f"{run.fresh:>6} {sum(run.noise_adopted):>6}/{len(run.noise_adopted):<6} "
              f"{sum(run.random_adopted):>3}/{len(run.random_adopted):<2}"
              + (f"{run.early.gain_ratio:>12.3f}{' adopted' if run.early_adopted else ''}"
                 if run.early else ""))  # fmt: skip
    _summarise(runs)
    return 0


def _summarise(runs: Sequence[ReplayRun]) -> None:
    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

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
    drawn = [adopted for r in runs for adopted in r.random_adopted]
    if drawn:
        print(f"random labels refused in {len(drawn) - sum(drawn)}/{len(drawn)} tunes")
    early = [r for r in runs if r.early is not None]
    if early:
        first = mean([r.early.gain_ratio for r in early if r.early])
        share = mean([(r.early.gain_ratio - r.before.gain_ratio)
                      / (r.after.gain_ratio - r.before.gain_ratio)
                      for r in early if r.early and r.after.gain_ratio > r.before.gain_ratio])
        print(f"first {early[0].early_labels} labels: gain ratio mean {first:.3f}, adopted "
              f"{sum(r.early_adopted for r in early)}/{len(early)}; share of the gain over the "
              f"base reached with them: mean {share:.2f}")  # fmt: skip
