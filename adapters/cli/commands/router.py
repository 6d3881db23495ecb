"""`switchboard router train|eval`: retrain the query analyzer and measure it against baselines."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from adapters.cli.commands.calibrate import add_calibrate
from routing.analyzer.scorer import MODEL_PATH, QueryAnalyzer
from routing.training.evaluation import (
    LabelledPrompt,
    Scorer,
    evaluate,
    hard_auc,
    keyword_scores,
    random_scorer,
    support_metrics,
)

DEFAULT_DATA_DIR = "../shared/data"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve_data_dir(raw: str) -> Path:
    """A relative --data-dir is tried against the CWD first, then the repo root."""
    path = Path(raw)
    if path.is_absolute() or path.exists():
        return path
    return _REPO_ROOT / path


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    router = subparsers.add_parser("router", help="train or evaluate the query analyzer")
    commands = router.add_subparsers(dest="router_command", required=True)

    train = commands.add_parser("train", help="fit the analyzer on the training split")
    train.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    train.add_argument("--out", type=Path, default=MODEL_PATH)
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(func=run_train)

    ev = commands.add_parser("eval", help="APGR/CPT on the held-out split vs baselines")
    ev.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ev.add_argument("--model", type=Path, default=MODEL_PATH)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--json", action="store_true", help="print machine-readable results")
    ev.set_defaults(func=run_eval)

    add_calibrate(commands)


def run_train(args: argparse.Namespace) -> int:
    # Imported here: training pulls in numpy/scipy, which the bot itself never needs.
    from routing.training.fit import save_model, train_from_dir

    model = train_from_dir(resolve_data_dir(args.data_dir), seed=args.seed)
    save_model(model, args.out)
    print(f"trained on {model['trained_on']} prompts; wrote {args.out}")
    return 0


def heldout_prompts(data_dir: Path, seed: int) -> list[LabelledPrompt]:
    from routing.training.fit import load_examples

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

    return {"learned": learned, "keyword": keyword_scores, "random": random_scorer(seed)}


def run_eval(args: argparse.Namespace) -> int:
    prompts = heldout_prompts(resolve_data_dir(args.data_dir), args.seed)
    named = scorers(QueryAnalyzer.load(args.model), args.seed)
    table = evaluate(prompts, named)
    arena = [p for p in prompts if p.source == "arena"]
    aucs = {name: hard_auc(arena, scorer) for name, scorer in named.items()}
    support = {name: support_metrics(prompts, scorer) for name, scorer in named.items()}
    if args.json:
        out = {group: {name: vars(m) for name, m in row.items()} for group, row in table.items()}
        report = {
            "heldout": out,
            "arena_auc": aucs,
            "support": {k: vars(v) for k, v in support.items()},
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
    return 0
