"""Learning from a deployment's own labelled traffic: a memory of judged questions stacked on
the shipped analyzer's score, adopted only when cross-fitted labels say it routes better. Pure
Python, no I/O (docs/routing.md)."""

from routing.learning.examples import (
    DEFAULT_LABELS,
    DEFAULT_WEIGHTS,
    KINDS,
    Kind,
    LabelledExample,
    example_from_comparison,
    example_from_signal,
    judge_quality,
)
from routing.learning.metrics import Comparison, Interval, Metrics, Outcome
from routing.learning.tuned import BaseMismatchError, TunedAnalyzer
from routing.learning.tuning import TuneResult, TuneSettings, tune

__all__ = [
    "DEFAULT_LABELS",
    "DEFAULT_WEIGHTS",
    "KINDS",
    "BaseMismatchError",
    "Comparison",
    "Interval",
    "Kind",
    "LabelledExample",
    "Metrics",
    "Outcome",
    "TuneResult",
    "TuneSettings",
    "TunedAnalyzer",
    "example_from_comparison",
    "example_from_signal",
    "judge_quality",
    "tune",
]
