"""`tune`: fit a deployment's correction on most of its labels, measure it on the rest, and adopt
it only when the held-back labels say it routes better.

The guard: a paired bootstrap over the held-back questions gives an interval for the APGR gain
(tuned minus current); the model is adopted only if the interval's lower bound is above zero.
On labels that carry no signal the gain is centred on zero (or below: the fit adds variance),
so the bound clears zero about 2.5% of the time or less; docs/routing.md has the measured rate.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.examples import KINDS, LabelledExample, in_holdout
from routing.learning.fitting import FitSettings, fit_correction
from routing.learning.metrics import QUALITY_TARGET, Comparison, Outcome, compare, has_gap
from routing.learning.tuned import Scorer, TunedAnalyzer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TuneSettings:
    rounds: int = 1000  # bootstrap resamples
    level: float = 0.95  # two-sided interval; adoption needs its lower APGR-gain bound > 0
    quality_target: float = QUALITY_TARGET
    min_train: int = 30
    min_holdout: int = 30
    min_holdout_needing_premium: int = 5
    # Once the held-back slice has shown that fitting this way helps, the adopted model is fitted
    # again on every label, held-back ones included (measured gain in docs/routing.md).
    refit_on_all: bool = True
    fit: FitSettings = field(default_factory=FitSettings)


@dataclass(frozen=True)
class TuneResult:
    model: dict[str, Any] | None  # the fitted correction as JSON (TunedAnalyzer.from_json)
    comparison: Comparison | None  # current vs tuned on the held-back labels
    used: Mapping[str, int]  # training examples by kind
    held_out: Mapping[str, int]  # held-back examples by kind
    adopted: bool
    reason: str

    def analyzer(self, base: QueryAnalyzer) -> TunedAnalyzer:
        if self.model is None:
            raise ValueError("nothing was fitted: " + self.reason)
        return TunedAnalyzer.from_json(self.model, base)


def outcome_of(example: LabelledExample, costs: bool) -> Outcome:
    cheap, premium = example.qualities
    if costs and example.cheap_cost_nano is not None and example.premium_cost_nano is not None:
        return Outcome(cheap, premium, float(example.cheap_cost_nano),
                       float(example.premium_cost_nano))  # fmt: skip
    return Outcome(cheap, premium)


def _by_kind(examples: Sequence[LabelledExample]) -> dict[str, int]:
    counts = Counter(ex.kind for ex in examples)
    return {kind: counts[kind] for kind in KINDS if counts[kind]}


def tune(
    base: QueryAnalyzer,
    examples: Sequence[LabelledExample],
    *,
    seed: int = 0,
    holdout: float = 0.2,
    current: Scorer | None = None,
    settings: TuneSettings = TuneSettings(),
) -> TuneResult:
    """Fit on the examples outside the held-back slice (`holdout` share, by hash of each
    question's split key) and compare with `current` (default: the shipped analyzer) on it.

    Costs: savings use the examples' nano-dollar costs when every held-back example has both,
    otherwise premium calls avoided (cheap answers counted as free)."""
    usable = [ex for ex in examples if ex.weight > 0]
    train = [ex for ex in usable if not in_holdout(ex.text, holdout)]
    test = [ex for ex in usable if in_holdout(ex.text, holdout)]
    used, held = _by_kind(train), _by_kind(test)
    needing = sum(1 for ex in test if ex.qualities[1] - ex.qualities[0] > 0)

    def refuse(reason: str, model: dict[str, Any] | None = None,
               comparison: Comparison | None = None) -> TuneResult:  # fmt: skip
        logger.info("tuning not adopted: %s", reason)
        return TuneResult(model, comparison, used, held, False, reason)

    if len(train) < settings.min_train:
        return refuse(f"not enough labels to fit: {len(train)} (need {settings.min_train})")
    fitted = fit_correction(
        train, [base.difficulty(ex.text) for ex in train], settings.fit, base.fingerprint
    )
    model = fitted.to_json()
    if len(test) < settings.min_holdout or needing < settings.min_holdout_needing_premium:
        return refuse(
            f"not enough held-back labels to judge: {len(test)} held back, {needing} where "
            f"premium did better (need {settings.min_holdout} and "
            f"{settings.min_holdout_needing_premium})",
            model,
        )
    costs = all(ex.cheap_cost_nano is not None and ex.premium_cost_nano is not None for ex in test)
    outcomes = [outcome_of(ex, costs) for ex in test]
    if not has_gap(outcomes):
        return refuse("premium was not better than the cheap tier on the held-back labels", model)
    incumbent = current or base
    tuned = TunedAnalyzer(base, fitted)
    comparison = compare(
        [incumbent.score(ex.text, ex.context).score for ex in test],
        [tuned.score(ex.text, ex.context).score for ex in test],
        outcomes,
        seed=seed,
        rounds=settings.rounds,
        level=settings.level,
        target=settings.quality_target,
    )
    gain = comparison.apgr_gain
    summary = (
        f"APGR on {len(test)} held-back labels {comparison.before.apgr.estimate:.3f} -> "
        f"{comparison.after.apgr.estimate:.3f} (gain {gain.estimate:+.3f}, "
        f"{settings.level:.0%} CI {gain.low:+.3f}..{gain.high:+.3f})"
    )
    if not gain.low > 0.0:
        return refuse(f"kept the current model: {summary}; the interval does not exclude 0",
                      model, comparison)  # fmt: skip
    if settings.refit_on_all:
        model = fit_correction(
            usable, [base.difficulty(ex.text) for ex in usable], settings.fit, base.fingerprint
        ).to_json()
        summary += f"; refitted on all {len(usable)} labels"
    logger.info("tuning adopted: %s", summary)
    return TuneResult(model, comparison, used, held, True, f"adopted: {summary}")
