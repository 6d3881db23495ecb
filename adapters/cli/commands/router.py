"""`switchboard router train|eval|validate|calibrate`: retrain the query analyzer, measure it
against baselines, compare training configurations on the chat-like validation slice, and pick
tier thresholds. Data folders are always passed in (`--data-dir`); nothing is guessed."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from adapters.cli.commands.calibrate import add_calibrate
from adapters.cli.commands.router_replay import add_replay
from adapters.cli.commands.router_versions import add_version_commands
from adapters.cli.progress import steps
from routing.analyzer.scorer import MODEL_PATH, QueryAnalyzer
from routing.training.datasets import DataDirError, check_data_dir, load_examples
from routing.training.evaluation import (
    LabelledPrompt,
    Scorer,
    evaluate,
    hard_auc,
    keyword_scores,
    random_scorer,
    support_metrics,
)

TRAIN_EXTRA = "install switchboard[train] (numpy and scipy)"


def length_scores(texts: Sequence[str]) -> list[float]:
    """The baseline the issue compares with: longer prompts are harder."""
    return [float(len(text)) for text in texts]


BASELINES: dict[str, Scorer] = {"length": length_scores, "random": random_scorer(0)}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    router = subparsers.add_parser(
        "router", help="train, evaluate, tune or calibrate the router; list and pick versions"
    )
    commands = router.add_subparsers(dest="router_command", required=True)
    data_help = "the shared data folder (routellm/, arena_hard_rated/, banking77/, clinc150/)"

    train = commands.add_parser("train", help="fit the analyzer on the training split")
    train.add_argument("--data-dir", type=Path, help=data_help)
    train.add_argument("--out", type=Path, default=MODEL_PATH)
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(func=_guarded(run_train))

    ev = commands.add_parser("eval", help="APGR/CPT on the held-out split vs baselines")
    ev.add_argument("--data-dir", type=Path, help=data_help)
    ev.add_argument("--model", type=Path, default=MODEL_PATH)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--json", action="store_true", help="print machine-readable results")
    ev.set_defaults(func=_guarded(run_eval))

    val = commands.add_parser(
        "validate", help="compare training configurations on the chat-like validation slice"
    )
    val.add_argument("--data-dir", type=Path, help=data_help)
    val.add_argument("--candidates", default="", help="comma-separated (default: all)")
    val.add_argument("--seed", type=int, default=0)
    val.set_defaults(func=_guarded(run_validate))

    add_replay(commands, _guarded, data_help)
    add_calibrate(commands)
    add_version_commands(commands)


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One line on stderr and exit code 2 for a missing data folder or training extra."""

    def guarded(args: argparse.Namespace) -> int:
        command = f"router {args.router_command}"
        try:
            if args.data_dir is None:
                raise DataDirError("--data-dir PATH is required")
            check_data_dir(args.data_dir)
            return run(args)
        except DataDirError as error:
            print(f"switchboard: {command}: {error}", file=sys.stderr)
        except ImportError as error:
            print(f"switchboard: {command} needs the training extra: {TRAIN_EXTRA} "
                  f"({error})", file=sys.stderr)  # fmt: skip
        return 2

    return guarded


def run_train(args: argparse.Namespace) -> int:
    # Imported here: training pulls in numpy/scipy, which the bot itself never needs.
    from routing.training.datasets import arena_scores
    from routing.training.fit import save_model, train

    with steps("router train") as step:
        step(f"reading {args.data_dir}")
        examples = [ex for ex in load_examples(args.data_dir, args.seed) if not ex.heldout]
        arena = dict(arena_scores(args.data_dir))
        step(f"fitting on {len(examples)} prompts")
        model = train(examples, arena_scores=arena)
        step(f"writing {args.out}")
        save_model(model, args.out)
    print(f"trained on {model['trained_on']} prompts; wrote {args.out}")
    return 0


def heldout_prompts(data_dir: Path, seed: int) -> list[LabelledPrompt]:
    return [
        LabelledPrompt(
            ex.text, ex.source, ex.weak_quality, ex.strong_quality, ex.label > 0.5, ex.group
        )
        for ex in load_examples(data_dir, seed)
        if ex.heldout
    ]


def scorers(analyzer: QueryAnalyzer, seed: int) -> dict[str, Scorer]:
    def learned(texts: Sequence[str]) -> list[float]:
        return [analyzer.score(text).score for text in texts]

    return {
        "learned": learned,
        "keyword": keyword_scores,
        "length": length_scores,
        "random": random_scorer(seed),
    }


def run_eval(args: argparse.Namespace) -> int:
    with steps("router eval") as step:
        step(f"reading the held-out prompts in {args.data_dir}")
        prompts = heldout_prompts(args.data_dir, args.seed)
        named = scorers(QueryAnalyzer.load(args.model), args.seed)
        step(f"scoring {len(prompts)} held-out prompts with {len(named)} routers")
        table = evaluate(prompts, named)
        arena = [p for p in prompts if p.source == "arena"]
        aucs = {name: hard_auc(arena, scorer) for name, scorer in named.items()}
        support = {name: support_metrics(prompts, scorer) for name, scorer in named.items()}
        faq = {
            source: named["learned"]([p.text for p in prompts if p.source == source])
            for source in ("banking77", "clinc150")
        }
    if args.json:
        out = {group: {name: vars(m) for name, m in row.items()} for group, row in table.items()}
        report = {
            "heldout": out,
            "arena_auc": aucs,
            "support": {k: vars(v) for k, v in support.items()},
            "faq_mean_score": {k: sum(v) / len(v) for k, v in faq.items()},
        }
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    print(f"{'set':<8} {'router':<8} {'n':>5} {'APGR':>6} {'CPT(50%)':>9} {'CPT(80%)':>9}")
    for group, row in table.items():
        for name, m in row.items():
            print(f"{group:<8} {name:<8} {m.n:>5} {m.apgr:>6.3f} {m.cpt50:>9.1%} {m.cpt80:>9.1%}")
    print("arena hard-vs-easy AUC: " + ", ".join(f"{k} {v:.3f}" for k, v in aucs.items()))
    first = next(iter(support.values()))
    print(
        f"support hard-vs-easy AUC ({first.n_hard} hard / {first.n_easy} easy held out): "
        + ", ".join(f"{k} {v.auc:.3f}" for k, v in support.items())
    )
    print(
        "support hard above easy median: "
        + ", ".join(f"{k} {v.hard_above_easy_median:.0%}" for k, v in support.items())
    )
    print(
        "FAQ traffic, learned mean score (n): "
        + ", ".join(f"{k} {sum(v) / len(v):.3f} ({len(v)})" for k, v in faq.items())
    )
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from routing.training.datasets import arena_scores
    from routing.training.selection import (
        CANDIDATES,
        chat_gain,
        out_of_fold_scores,
        source_results,
    )

    names = [n for n in args.candidates.split(",") if n] or list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES and n not in BASELINES]
    if unknown:
        known = ", ".join([*CANDIDATES, *BASELINES])
        print(f"switchboard: router validate: unknown candidates {unknown} (known: {known})",
              file=sys.stderr)  # fmt: skip
        return 2
    trained = [n for n in names if n in CANDIDATES]
    if trained and "shipped" not in trained:
        trained.insert(0, "shipped")
    train_part = [ex for ex in load_examples(args.data_dir, args.seed) if not ex.heldout]
    arena = dict(arena_scores(args.data_dir))
    texts = [ex.text for ex in train_part]
    scores = {name: BASELINES[name](texts) for name in names if name in BASELINES}
    scores.update(
        {name: out_of_fold_scores(train_part, CANDIDATES[name], arena) for name in trained}
    )
    print(f"{'candidate':<13} {'source':<10} {'n':>5} {'APGR':>6} {'AUC':>6} {'mean':>6}")
    for name in scores:
        for r in source_results(train_part, scores[name]):
            apgr = f"{r.apgr:.3f}" if r.apgr is not None else "-"
            area = f"{r.auc:.3f}" if r.auc is not None else "-"
            print(f"{name:<13} {r.source:<10} {r.n:>5} {apgr:>6} {area:>6} {r.mean_score:>6.3f}")
    for name in trained[1:]:
        gain = chat_gain(train_part, scores["shipped"], scores[name], args.seed)
        print(f"chat APGR {name} - shipped: {gain.estimate:+.3f} "
              f"(95% CI {gain.low:+.3f}..{gain.high:+.3f})")  # fmt: skip
    return 0
