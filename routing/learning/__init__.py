"""Learning from a deployment's own labelled traffic: a memory of judged questions stacked on
the shipped analyzer's score, adopted only when cross-fitted labels say it routes better. Pure
Python, no I/O (docs/routing.md)."""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from routing.learning.metrics import Comparison, Interval, Metrics, Outcome
    from routing.learning.tuned import BaseMismatchError, TunedAnalyzer
    from routing.learning.tuning import TuneResult, TuneSettings, tune

# The tuning stack (cross-fitting, metrics, statistics) only where it is used: a bot that
# scores with a version imports this package too; the memory of judged questions only where a
# version is scored (docs/benchmarks.md, section 12).
_LAZY = {
    "BaseMismatchError": "routing.learning.tuned",
    "TunedAnalyzer": "routing.learning.tuned",
    "Comparison": "routing.learning.metrics",
    "Interval": "routing.learning.metrics",
    "Metrics": "routing.learning.metrics",
    "Outcome": "routing.learning.metrics",
    "TuneResult": "routing.learning.tuning",
    "TuneSettings": "routing.learning.tuning",
    "tune": "routing.learning.tuning",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
