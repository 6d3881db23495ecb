"""`switchboard router tune | versions | use`: the deployment's own router versions."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from adapters.cli.options import add_database, settings_for


def add_version_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tune = commands.add_parser(
        "tune",
        help="fit a router on this deployment's labels; adopt it only if it is not worse",
        description="Reads the labels in the database (judged shadow comparisons, escalations, "
        "thumbs, solved), scores each with a memory of the other judged questions (its own "
        "near-duplicates left out), and adopts the new version only when that out-of-fold "
        "gain over the current router is positive and its 95% interval excludes a loss "
        "(docs/routing.md).",
    )
    tune.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    tune.add_argument("--json", action="store_true", help="machine-readable output")
    add_database(tune)
    tune.set_defaults(func=lambda args: asyncio.run(_tune(args)))
    listing = commands.add_parser("versions", help="list router versions and the active one")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    add_database(listing)
    listing.set_defaults(func=lambda args: asyncio.run(_versions(args)))
    use = commands.add_parser("use", help="make a router version active (rollback included)")
    use.add_argument("version", help='a version id from `router versions`, or "base"')
    use.add_argument("--force", action="store_true",
                     help="also a version the guard did not adopt")  # fmt: skip
    add_database(use)
    use.set_defaults(func=lambda args: asyncio.run(_use(args)))


async def _tune(args: argparse.Namespace) -> int:
    from adapters.stores import router_versions, stores_for
    from bot.learning.labels import LabelWeights, collect

    settings = settings_for(args)
    async with stores_for(settings) as stores:
        versions = router_versions(stores)
        examples = await collect(stores.learning, LabelWeights.from_settings(settings))
        tuned = await versions.tune(examples, seed=args.seed)
    result = tuned.result
    report: dict[str, Any] = {
        "version": tuned.version,
        "adopted": result.adopted,
        "reason": result.reason,
        "labels": len(examples),
        "used": dict(result.labels),
        "questions": result.questions,
        "more_labels": result.more_labels,
        "retrieval_weight": result.retrieval_weight,
        "labels_with_retrieval": result.with_retrieval,
    }
    if result.comparison is not None:
        c = result.comparison
        report["before"] = _metrics(c.before)
        report["after"] = _metrics(c.after)
        report["apgr_gain"] = str(c.apgr_gain)
        report["savings_gain"] = str(c.savings_gain)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"router version {tuned.version}: {'ADOPTED' if result.adopted else 'not adopted'}")
    print(f"  {result.reason}")
    print(f"  labels: {len(examples)}; used {_counts(result.labels)} "
          f"({result.questions} distinct questions)")  # fmt: skip
    if result.with_retrieval:
        print(f"  retrieval weight {result.retrieval_weight:+.2f} (learned from "
              f"{result.with_retrieval} labels whose question was searched; 0: no evidence)")
    if result.comparison is not None:
        print(f"  APGR gain, out of fold: {report['apgr_gain']} (95% interval)")
        for name, who in (("before", "current"), ("after", "candidate")):
            m = report[name]
            print(f"  {who:<9} APGR {m['apgr']}  CPT(50%) {m['cpt50']}  "
                  f"saved at 95% of premium quality {m['savings']}")  # fmt: skip
    return 0


def _metrics(metrics: Any) -> dict[str, str]:
    return {"apgr": str(metrics.apgr), "cpt50": str(metrics.cpt50),
            "savings": str(metrics.savings), "n": metrics.n}  # fmt: skip


def _counts(counts: Any) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "none"


async def _versions(args: argparse.Namespace) -> int:
    from adapters.stores import stores_for

    async with stores_for(settings_for(args)) as stores:
        rows = await stores.learning.versions()
        active = await stores.learning.active()
    active_id = active.id if active else None
    if args.json:
        print(json.dumps([{"id": r.id, "active": r.id == active_id, "adopted": r.adopted,
                           "reason": r.reason, "created_at": r.created_at.isoformat(),
                           "data": json.loads(r.data)} for r in rows], indent=2))  # fmt: skip
        return 0
    marker = "*" if active_id is None else " "
    print(f"{marker} base  the shipped analyzer")
    for row in rows:
        marker = "*" if row.id == active_id else " "
        state = "adopted" if row.adopted else "not adopted"
        print(f"{marker} {row.id:<4}  {row.created_at:%Y-%m-%d %H:%M}  {state}: {row.reason}")
    return 0


async def _use(args: argparse.Namespace) -> int:
    from adapters.stores import router_versions, stores_for
    from bot.errors import ConfigError

    choice = args.version.strip().lower()
    if choice != "base" and not choice.isdigit():
        raise ConfigError(f'router use: give a version id or "base", not {args.version!r}')
    async with stores_for(settings_for(args)) as stores:
        versions = router_versions(stores)
        version = None if choice == "base" else int(choice)
        if not await versions.use(version, force=args.force):
            raise ConfigError(f"router use: no router version {version} with a model "
                              "(see `switchboard router versions`)")  # fmt: skip
    print(f"active router: {'the shipped analyzer' if version is None else f'version {version}'}")
    return 0
