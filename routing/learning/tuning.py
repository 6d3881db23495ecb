"""`tune`: fit a deployment's memory of judged questions and adopt it only when its labels say it
routes better than the current router.

The guard (cross-fitted, leaving one group out): near-duplicate labels form groups (`crossfit`);
each group is scored by the memory of every other group's labels, so every label is scored out
of fold, by a memory as close as it can be to the one that would be deployed (all labels but
its own question's copies). A paired bootstrap over the groups gives an interval for the APGR
gain of these out-of-fold scores over the current router's scores of the same labels; its
rounds resample the memory's labels with the judged ones (`spread`: an out-of-fold score is
made of other labels, and holding it fixed made the interval too narrow), and the interval is
the point gain ± z x their spread. Adopted when the point gain is positive and the interval
excludes a loss (its lower bound is above 0); the adopted memory is then fitted on every
label. On labels that carry no signal the
out-of-fold gain is centred on zero or below (the memory moves scores at random), so the bound
clears zero rarely; docs/routing.md has the measured rate. When the gain is positive but the
interval still reaches below zero, the reason says roughly how many more labels would settle it
(the interval's width shrinks about as 1/sqrt(labels), assuming the gain stays as measured).

Leaving one group out rather than a fifth of the labels (5 folds, measured in docs/routing.md):
a label whose question has one other judged wording is scored with that wording in the memory
every time, not 4 times in 5, and the scores do not depend on how the groups fell into folds.

Labels that carry their question's retrieval confidence also teach how far a strong passage
lowers the score (`retrieval.learn_weight`), cross-fitted by `folds` folds of groups: each
fold's weight is estimated on the other folds' out-of-fold scores, so the guard judges the
weight as well as the memory.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from routing.analyzer.features import Features, extract
from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.crossfit import (
    MemorySettings,
    balanced_weights,
    fit_memory,
    fold_assignment,
    near_duplicate_groups,
)
from routing.learning.examples import KINDS, LabelledExample
from routing.learning.memory import Memory
from routing.learning.metrics import (
    QUALITY_TARGET,
    Comparison,
    Interval,
    Outcome,
    compare,
    has_gap,
)
from routing.learning.retrieval import learn_weight, shifted
from routing.learning.spread import Neighbourhood, gain_spread, neighbourhood
from routing.learning.tuned import Scorer, TunedAnalyzer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TuneSettings:
    folds: int = 5  # of groups, for the retrieval weight (the memory leaves one group out)
    rounds: int = 1000  # bootstrap resamples (the metrics' intervals)
    spread_rounds: int = 300  # resamples with the memory's labels (the deciding interval)
    level: float = 0.95  # two-sided interval; adoption needs its lower APGR-gain bound > 0
    quality_target: float = QUALITY_TARGET
    # Floors below which no interval is computed at all (an APGR needs both kinds of outcome).
    min_labels: int = 20
    min_needing_premium: int = 5
    memory: MemorySettings = field(default_factory=MemorySettings)


@dataclass(frozen=True)
class TuneResult:
    model: dict[str, Any] | None  # the memory as JSON (TunedAnalyzer.from_json)
    comparison: Comparison | None  # current vs out-of-fold candidate, on every label
    labels: Mapping[str, int]  # labels used, by kind
    questions: int  # groups of near-duplicate labels (the bootstrap's units)
    adopted: bool
    reason: str
    more_labels: int | None = None  # undecided: about this many more labels would settle it
    retrieval_weight: float = 0.0  # learned on every label (0: none carried a retrieval)
    with_retrieval: int = 0  # labels whose question was searched in the knowledge base

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


def more_labels_needed(n: int, gain: float, low: float) -> int | None:
    """Labels to add before the lower bound would clear 0 if the gain stayed `gain` and the
    interval narrowed as 1/sqrt(n); rounded up to tens. None without a positive gain."""
    if gain <= 0.0 or low > 0.0:
        return None
    needed = n * ((gain - low) / gain) ** 2
    return max(10, math.ceil((needed - n) / 10.0) * 10)


def out_of_group(
    base: QueryAnalyzer,
    examples: Sequence[LabelledExample],
    groups: Sequence[int],
    settings: MemorySettings,
) -> tuple[Memory, list[float], list[Neighbourhood]]:
    """Each example scored by the memory of every other group's labels (leave one group out):
    one memory of all labels, each group's own positions skipped when it is scored. The texts
    of a group still count in the features' document frequencies (no label does). Also the
    neighbours each score used, for `spread.gain_spread`."""
    memory = fit_memory(examples, settings, base.fingerprint)
    members: dict[int, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    scores = [0.0] * len(examples)
    hoods: list[Neighbourhood] = [Neighbourhood((), (), (), 0.0, True)] * len(examples)
    for positions in members.values():
        skip = frozenset(positions)

        def adjust(
            feats: Features, own: float, skip: frozenset[int] = skip
        ) -> tuple[float, str | None]:
            return memory.adjust(feats, own, skip)

        scorer = base.adjusted(adjust)
        for i in positions:
            text = examples[i].text
            scores[i] = scorer.score(text, examples[i].context).score
            fixed = bool(examples[i].context)
            hoods[i] = (Neighbourhood((), (), (), scores[i], True) if fixed else
                        neighbourhood(memory, extract(text).tokens, skip, base.difficulty(text),
                                      scores[i]))  # fmt: skip
    return memory, scores, hoods


def out_of_group_scores(
    base: QueryAnalyzer,
    examples: Sequence[LabelledExample],
    groups: Sequence[int],
    settings: MemorySettings,
) -> list[float]:
    return out_of_group(base, examples, groups, settings)[1]


def with_retrieval_weights(
    scores: Sequence[float], examples: Sequence[LabelledExample], folds: Sequence[int],
    outcomes: Sequence[Outcome],
) -> tuple[list[float], list[float], float]:  # fmt: skip
    """Out-of-fold scores with each fold's retrieval weight learned on the other folds, the
    weight each score was shifted by, and the weight learned on every label (the adopted
    model's)."""
    retrievals = [ex.retrieval for ex in examples]
    applied = [0.0] * len(examples)
    if not any(retrievals):
        return list(scores), applied, 0.0
    labels = [ex.needs_premium for ex in examples]
    weights = balanced_weights(examples)
    shifted_scores = list(scores)
    for fold in sorted(set(folds)):
        rest = [i for i, f in enumerate(folds) if f != fold]
        if not has_gap([outcomes[i] for i in rest]):
            continue
        weight = learn_weight([scores[i] for i in rest], [retrievals[i] for i in rest],
                              [labels[i] for i in rest], [weights[i] for i in rest])  # fmt: skip
        for i, f in enumerate(folds):
            if f == fold:
                shifted_scores[i] = shifted(scores[i], retrievals[i], weight)
                applied[i] = weight
    return shifted_scores, applied, learn_weight(scores, retrievals, labels, weights)


def tune(
    base: QueryAnalyzer,
    examples: Sequence[LabelledExample],
    *,
    seed: int = 0,
    current: Scorer | None = None,
    settings: TuneSettings = TuneSettings(),
) -> TuneResult:
    """Cross-fit a memory on `examples`, compare it with `current` (default: the shipped
    analyzer) on all of them, and fit it on all of them when it routes better.

    Costs: savings use the examples' nano-dollar costs when every example has both, otherwise
    premium calls avoided (cheap answers counted as free)."""
    usable = [ex for ex in examples if ex.weight > 0]
    used = _by_kind(usable)
    needing = sum(1 for ex in usable if ex.qualities[1] - ex.qualities[0] > 0)
    texts = [ex.text for ex in usable]
    groups = near_duplicate_groups(texts) if usable else []
    questions = len(set(groups))
    searched = sum(ex.retrieval is not None for ex in usable)
    learned = 0.0

    def refuse(reason: str, model: dict[str, Any] | None = None,
               comparison: Comparison | None = None, more: int | None = None) -> TuneResult:
        logger.info("tuning not adopted: %s", reason)
        return TuneResult(model, comparison, used, questions, False, reason, more,
                          learned, searched)  # fmt: skip

    if len(usable) < settings.min_labels or needing < settings.min_needing_premium:
        return refuse(
            f"not enough labels to judge: {len(usable)}, {needing} where premium did better "
            f"(need {settings.min_labels} and {settings.min_needing_premium})"
        )
    costs = all(ex.cheap_cost_nano is not None and ex.premium_cost_nano is not None
                for ex in usable)  # fmt: skip
    outcomes = [outcome_of(ex, costs) for ex in usable]
    if not has_gap(outcomes):
        return refuse("premium was not better than the cheaper tier on these labels")
    folds = fold_assignment(texts, groups, settings.folds)
    memory, scores, hoods = out_of_group(base, usable, groups, settings.memory)
    candidate, applied, weight = with_retrieval_weights(scores, usable, folds, outcomes)
    incumbent = current or base
    before = [incumbent.score(ex.text, ex.context, ex.retrieval).score for ex in usable]
    comparison = compare(before, candidate, outcomes, seed=seed, rounds=settings.rounds,
                         level=settings.level, target=settings.quality_target,
                         groups=groups)  # fmt: skip
    # The interval that decides: the spread with the memory's labels resampled too (`spread`).
    point = comparison.apgr_gain.estimate
    z = NormalDist().inv_cdf(0.5 + settings.level / 2.0)
    spread = gain_spread(memory, hoods, before, outcomes, groups,
                         [ex.retrieval for ex in usable], applied, seed=seed,
                         rounds=settings.spread_rounds, target=settings.quality_target,
                         point=point, z=z)  # fmt: skip
    half = z * spread
    comparison = dataclasses.replace(comparison, apgr_gain=Interval(point, point - half,
                                                                    point + half))  # fmt: skip
    # Kept with the version even when refused: `router use N --force` can still activate it.
    learned = weight
    model = fit_memory(usable, settings.memory, base.fingerprint, weight).to_json()
    gain = comparison.apgr_gain
    summary = (
        f"out-of-fold APGR on {len(usable)} labels ({questions} questions, each scored "
        f"without its own labels) {comparison.before.apgr.estimate:.3f} -> "
        f"{comparison.after.apgr.estimate:.3f} (gain {gain.estimate:+.3f}, "
        f"{settings.level:.0%} CI {gain.low:+.3f}..{gain.high:+.3f})"
    )
    if searched:
        summary += f"; retrieval weight {weight:+.2f} from {searched} labels with a retrieval"
    if gain.estimate <= 0.0:
        return refuse(f"kept the current model: {summary}; no gain", model, comparison)
    if not gain.low > 0.0:
        more = more_labels_needed(len(usable), gain.estimate, gain.low)
        return refuse(
            f"kept the current model: {summary}; the interval does not exclude a loss "
            f"(needs about {more} more labels)",
            model,
            comparison,
            more,
        )
    summary += f"; fitted on all {len(usable)} labels"
    logger.info("tuning adopted: %s", summary)
    return TuneResult(model, comparison, used, questions, True, f"adopted: {summary}", None,
                      learned, searched)  # fmt: skip
