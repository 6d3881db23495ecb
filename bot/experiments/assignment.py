"""Which strategy answers a thread: an experiment's sticky variant while it runs, else the default.

Window rules: a thread is enrolled only if it was created while the experiment runs (so no
conversation switches strategy mid-way); an enrolled thread keeps its variant while the
experiment runs; once it stops, every thread gets the default strategy. Assignment is
blake2b of (experiment, thread key): the same in every process and after every restart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from bot.conversation.engine import Assignment
from bot.conversation.messages import Incoming
from bot.errors import ConfigError
from bot.experiments.config import Experiment, Variant
from routing.strategy import FixedStrategy, Strategy
from storage.records import StartedTurn, ThreadRef
from storage.tables import utcnow


class ExperimentPicker:
    """The engine's `StrategyPicker`."""

    def __init__(
        self,
        experiments: Sequence[Experiment],
        strategies: Mapping[str, Strategy],
        default: str,
        clock: Callable[[], datetime] = utcnow,
        pinned: Mapping[tuple[str, str], Strategy] | None = None,
    ) -> None:
        """`pinned`: strategies built for (experiment, variant) pairs that score with a fixed
        router version (the composition root loads those versions)."""
        self._experiments = tuple(experiments)
        self._default = strategies[default]
        self._clock = clock
        # Each variant's strategy, built once (inline `fixed` variants get their own).
        pinned = pinned or {}
        self._variant_strategies: dict[tuple[str, str], Strategy] = {
            (e.name, v.name): pinned.get((e.name, v.name)) or _strategy_for(v, strategies)
            for e in self._experiments
            for v in e.variants
        }

    async def pick(self, incoming: Incoming, turn: StartedTurn) -> Assignment:
        now = self._clock()
        if turn.experiment is not None:
            # First assignment wins: a thread never joins a second experiment.
            return self._keep(turn.experiment, turn.variant, now)
        for experiment in self._experiments:
            if not (experiment.running(now) and experiment.in_scope(incoming.channel)):
                continue
            created = turn.thread_created_at
            if experiment.start and created is not None and created < experiment.start:
                continue
            key = ThreadRef(
                incoming.platform, incoming.workspace, incoming.channel, incoming.thread
            ).key
            variant = experiment.variant_for(key)
            strategy = self._variant_strategies[(experiment.name, variant.name)]
            return Assignment(strategy, experiment.name, variant.name)
        return Assignment(self._default)

    def _keep(self, name: str, variant: str | None, now: datetime) -> Assignment:
        experiment = next((e for e in self._experiments if e.name == name), None)
        strategy = self._variant_strategies.get((name, variant or ""))
        if experiment is None or not experiment.running(now) or strategy is None:
            return Assignment(self._default)  # stopped, removed, or the variant was renamed
        return Assignment(strategy, name, variant)


def _strategy_for(variant: Variant, strategies: Mapping[str, Strategy]) -> Strategy:
    if variant.model is not None:
        return FixedStrategy(variant.model)
    if variant.strategy not in strategies:
        raise ConfigError(
            f"experiment variant {variant.name!r}: unknown strategy {variant.strategy!r}"
        )
    return strategies[variant.strategy]
