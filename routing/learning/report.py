"""Running a replay end to end (tune, then score the evaluation questions before and after), for
tests, `switchboard router replay` and the engine-level replay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.benchmark_replay import Graded, benchmark_replay
from routing.learning.examples import LabelledExample
from routing.learning.replay import (
    Evaluated,
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

    @property
    def deployed(self) -> ReplayScore:
        """What the deployment ends up with: the candidate if adopted, else the shipped model."""
        return self.after if self.adopted else self.before


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
    return _tune_and_measure(base, replay.labelled, replay.fresh, seed, noise_runs, settings)


def run_benchmark_replay(
    base: QueryAnalyzer,
    questions: Sequence[Graded],
    *,
    seed: int,
    labelled: int = 300,
    subjects: int | None = None,
    noise_runs: int = 0,
    settings: TuneSettings | None = None,
) -> ReplayRun:
    """Real labels: see routing.learning.benchmark_replay."""
    replay = benchmark_replay(questions, seed=seed, labelled=labelled, subjects=subjects)
    return _tune_and_measure(base, replay.labelled, replay.evaluation, seed, noise_runs, settings)


def _tune_and_measure(
    base: QueryAnalyzer, labelled: Sequence[LabelledExample], evaluation: Sequence[Evaluated],
    seed: int, noise_runs: int, settings: TuneSettings | None,
) -> ReplayRun:  # fmt: skip
    settings = settings or TuneSettings()
    result = tune(base, labelled, seed=seed, settings=settings)
    tuned = result.analyzer(base)
    texts = [q.text for q in evaluation]
    before = measure([base.score(text).score for text in texts], evaluation)
    after = measure([tuned.score(text).score for text in texts], evaluation)
    noise = tuple(
        tune(base, shuffled_labels(labelled, seed * 1000 + run), seed=run,
             settings=settings).adopted
        for run in range(noise_runs)
    )  # fmt: skip
    return ReplayRun(seed, len(labelled), len(evaluation), before, after,
                     result.adopted, result.reason, noise)  # fmt: skip
