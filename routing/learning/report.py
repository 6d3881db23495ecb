"""Running a replay end to end (tune, then score fresh wordings before and after), for tests,
`switchboard router replay` and the engine-level replay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.replay import (
    ReplayScore,
    Traffic,
    escalation_replay,
    hidden_rule_replay,
    measure,
    shuffled_labels,
)
from routing.learning.tuning import TuneSettings, tune


@dataclass(frozen=True)
class ReplayRun:
    seed: int
    labelled: int
    fresh: int
    before: ReplayScore
    after: ReplayScore
    adopted: bool
    reason: str
    noise_adopted: tuple[bool, ...]  # tune() on the same questions with shuffled labels


def run_replay(
    base: QueryAnalyzer,
    intents: Mapping[str, Sequence[str]],
    *,
    seed: int,
    signals: str = "shadow",
    traffic: Traffic | None = None,
    noise_runs: int = 0,
    settings: TuneSettings | None = None,
) -> ReplayRun:
    """`signals`: "shadow" (judged comparisons) or "escalation" (user signals only)."""
    make = hidden_rule_replay if signals == "shadow" else escalation_replay
    replay = make(intents, seed=seed, traffic=traffic or Traffic())
    settings = settings or TuneSettings()
    result = tune(base, replay.labelled, seed=seed, settings=settings)
    tuned = result.analyzer(base)
    before = measure([base.score(q.text).score for q in replay.fresh], replay.fresh)
    after = measure([tuned.score(q.text).score for q in replay.fresh], replay.fresh)
    noise = tuple(
        tune(base, shuffled_labels(replay.labelled, seed * 1000 + run), seed=run,
             settings=settings).adopted
        for run in range(noise_runs)
    )  # fmt: skip
    return ReplayRun(seed, len(replay.labelled), len(replay.fresh), before, after,
                     result.adopted, result.reason, noise)  # fmt: skip
