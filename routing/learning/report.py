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
    issue_replay,
    measure,
    random_labels,
    shuffled_labels,
    support_replay,
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
    early: ReplayScore | None = None  # fitted on the first `early_labels` labels only
    early_labels: int = 0
    early_adopted: bool = False
    random_adopted: tuple[bool, ...] = ()  # ... and with labels drawn at random

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
    early: int = 0,
) -> ReplayRun:
    """`signals`: "shadow" (judged comparisons), "escalation" (user signals only), "support"
    (judged comparisons, the need mostly as the base expects, twisted on a third of the
    questions: `support_replay`) or "issue" (the same in the issue's shape: `issue_replay`)."""
    if signals == "issue":
        replay = issue_replay(intents, base.difficulty, seed=seed)
    elif signals == "support":
        replay = support_replay(intents, base.difficulty, seed=seed,
                                traffic=traffic or Traffic(intents=200, premium_share=0.35,
                                                           labelled=140))  # fmt: skip
    else:
        make = hidden_rule_replay if signals == "shadow" else escalation_replay
        replay = make(intents, seed=seed, traffic=traffic or Traffic())
    return _tune_and_measure(base, replay.labelled, replay.fresh, seed, noise_runs, settings,
                             early)  # fmt: skip


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
    seed: int, noise_runs: int, settings: TuneSettings | None, early: int = 0,
) -> ReplayRun:  # fmt: skip
    settings = settings or TuneSettings()
    texts = [q.text for q in evaluation]

    def fitted(labels: Sequence[LabelledExample]) -> tuple[ReplayScore, bool, str]:
        result = tune(base, labels, seed=seed, settings=settings)
        tuned = result.analyzer(base)
        return measure([tuned.score(t).score for t in texts], evaluation), result.adopted, \
            result.reason

    before = measure([base.score(text).score for text in texts], evaluation)
    after, adopted, reason = fitted(labelled)
    first = fitted(labelled[:early]) if early else None
    noise = tuple(
        tune(base, shuffled_labels(labelled, seed * 1000 + run), seed=run,
             settings=settings).adopted
        for run in range(noise_runs)
    )  # fmt: skip
    drawn = tuple(
        tune(base, random_labels(labelled, seed * 1000 + run), seed=run, settings=settings).adopted
        for run in range(noise_runs)
    )
    return ReplayRun(seed, len(labelled), len(evaluation), before, after, adopted, reason, noise,
                     first[0] if first else None, early, bool(first and first[1]),
                     drawn)  # fmt: skip
