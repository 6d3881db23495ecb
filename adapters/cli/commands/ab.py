"""`switchboard ab list` and `switchboard ab report NAME [--json]`: experiments from the routing
file, analysed from the database (--database or DATABASE_URL; never created by a report)."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime

from adapters.cli.options import add_database, settings_for
from adapters.routing_setup import build_routing
from adapters.stores import stores_for
from bot.experiments import statistics as st
from bot.experiments.config import Experiment, find_experiment
from bot.experiments.report import Report, build_report
from bot.settings import Settings, load_settings
from storage.tables import utcnow


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ab = subparsers.add_parser("ab", help="A/B experiments: list them, report on one")
    commands = ab.add_subparsers(dest="ab_command", required=True)
    listing = commands.add_parser("list", help="experiments in the routing file and their state")
    listing.set_defaults(func=_list)
    report = commands.add_parser("report", help="per-variant figures, differences, verdict")
    report.add_argument("name", help="experiment name (from the routing file)")
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.set_defaults(func=_report)
    add_database(report)


def _experiments() -> tuple[Experiment, ...]:
    return build_routing(load_settings()).experiments


async def _build(settings: Settings, experiment: Experiment, now: datetime) -> Report:
    async with stores_for(settings, create=False) as stores:
        return await build_report(stores.experiments, experiment, now)


def _report(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    experiment = find_experiment(build_routing(settings).experiments, args.name)
    report = asyncio.run(_build(settings, experiment, utcnow()))
    print(json.dumps(report.as_dict(), indent=2, default=str) if args.json else render(report))
    return 0


def _list(args: argparse.Namespace) -> int:
    now = utcnow()
    experiments = _experiments()
    if not experiments:
        print("No experiments in the routing file.")
    for e in experiments:
        window = f"{e.start or '-'} .. {e.stop or '-'}"
        scope = ", ".join(e.channels) or "everywhere"
        variants = ", ".join(f"{v.name}={v.label} (weight {v.weight:g})" for v in e.variants)
        print(
            f"{e.name}  [{e.status(now)}]  {window}  scope: {scope}  "
            f"target {e.target_threads} threads/variant\n  {variants}"
        )
    return 0


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.6f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _rate(rate: st.Rate) -> str:
    if rate.value is None or rate.interval is None:
        return "-"
    return f"{rate.value:.1%} [{rate.interval.low:.1%}, {rate.interval.high:.1%}] n={rate.n}"


def _diff(d: st.Difference | None, kind: str) -> str:
    if d is None:
        return "-"
    p = "" if d.p_value is None else f" p={d.p_value:.3g}"
    if kind == "pp":
        return (
            f"{d.value * 100:+.1f} pp [{d.interval.low * 100:+.1f}, "
            f"{d.interval.high * 100:+.1f}]{p}"
        )
    if kind == "ratio":
        return f"x{d.value:.3f} [{d.interval.low:.3f}, {d.interval.high:.3f}]"
    if kind == "usd":
        return f"{d.value:+.6f} [{d.interval.low:+.6f}, {d.interval.high:+.6f}]{p}"
    return f"{d.value:+.2f} [{d.interval.low:+.2f}, {d.interval.high:+.2f}]{p}"


def render(report: Report) -> str:
    lines = [
        f"Experiment {report.experiment} ({report.status}), control {report.control}, "
        f"target {report.target_threads} threads per variant",
        "",
    ]
    for v in report.variants:
        cost = v.cost_per_thread_usd
        ci = f" [{_usd(cost.interval.low)}, {_usd(cost.interval.high)}]" if cost.interval else ""
        judge = v.judge
        judge_text = (
            "-"
            if judge.value is None
            else f"{judge.value:.2f}"
            + (f" [{judge.interval.low:.2f}, {judge.interval.high:.2f}]" if judge.interval else "")
            + f" n={judge.n}"
        )
        t = v.timings
        lines += [
            f"{v.name}: {v.label}",
            f"  threads {v.threads}, calls {v.calls}"
            + (f" ({v.unpriced_calls} unpriced, left out of cost)" if v.unpriced_calls else ""),
            f"  cost per thread {_usd(cost.value)}{ci}, per call {_usd(v.cost_per_call_usd)}",
            f"  latency p50/p95 {_ms(t.latency_p50_ms)}/{_ms(t.latency_p95_ms)} ms, "
            f"first token p50/p95 {_ms(t.ttft_p50_ms)}/{_ms(t.ttft_p95_ms)} ms",
            f"  thumbs-up {_rate(v.thumbs_up)}",
            f"  judge score {judge_text}",
            f"  escalated {_rate(v.escalation)}",
            f"  solved {_rate(v.solved)}",
            f"  follow-up {_rate(v.follow_up)}",
        ]
    for c in report.comparisons:
        lines += [
            "",
            f"{c.variant} vs {report.control} (95% intervals):",
            f"  cost per thread ratio {_diff(c.cost_ratio, 'ratio')}",
            f"  cost per thread difference USD {_diff(c.cost_difference_usd, 'usd')}",
            f"  thumbs-up {_diff(c.thumbs_up, 'pp')}",
            f"  judge score {_diff(c.judge, 'points')}",
            f"  escalated {_diff(c.escalation, 'pp')}",
            f"  solved {_diff(c.solved, 'pp')}",
            f"  follow-up {_diff(c.follow_up, 'pp')}",
        ]
    lines.append("")
    if report.judge_calls:
        lines.append(
            f"Judge: {report.judge_calls} calls, {_usd(report.judge_cost_usd)} "
            "(not counted in any variant's cost)"
        )
    if report.power_threads is not None:
        lines.append(
            f"Power: about {report.power_threads} threads per variant give 80% power "
            "for this rule at the rates and spreads seen so far"
        )
    lines.append(
        "Rule: switch if the cost ratio's upper bound < 0.90 and the thumbs-up "
        "difference's lower bound > -5 pp (judge: > -0.5 points)"
    )
    lines.append(f"Verdict: {report.verdict}")
    return "\n".join(lines)
