"""How the knowledge base's retrieval confidence moves a routing score: a weight learned from the
deployment's own labels, never a hand-set discount.

A question whose answer the docs hold may be answered as well by a cheaper model given the
passage; whether that is so depends on the deployment's models and docs. So the shift is
    score' = sigmoid(logit(score) - weight x confidence)
(monotone in both; weight 0: no shift), and `learn_weight` picks the weight on labels that carry
the confidence of their question: the grid value that ranks those labels best (APGR), kept at 0
unless it gains at least `MARGIN`. The grid is relative to the largest confidence seen, so a
change of the confidence's scale changes nothing here. Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from routing.learning.metrics import Outcome, point_metrics

# Weights at the largest confidence seen (logit units): from "a strong passage makes premium
# more likely" (negative) to "it halves the odds several times over".
GRID = (-2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 6.0)
MARGIN = 0.005  # APGR over the labels a non-zero weight must add
_EDGE = 1e-4


def shifted(score: float, retrieval: float | None, weight: float) -> float:
    if not weight or not retrieval:
        return score
    s = min(max(score, _EDGE), 1.0 - _EDGE)
    return 1.0 / (1.0 + math.exp(weight * retrieval - math.log(s / (1.0 - s))))


def learn_weight(
    scores: Sequence[float], retrievals: Sequence[float | None], outcomes: Sequence[Outcome]
) -> float:
    """The weight that ranks these labels best, 0 when none gains `MARGIN` or when no label
    has a retrieval (or premium never did better)."""
    top = max((r for r in retrievals if r), default=0.0)
    if top <= 0.0 or sum(o.premium_quality - o.cheap_quality for o in outcomes) <= 1e-12:
        return 0.0
    plain = point_metrics(scores, outcomes).apgr
    best, chosen = plain + MARGIN, 0.0
    for step in GRID:
        weight = step / top
        apgr = point_metrics(
            [shifted(s, r, weight) for s, r in zip(scores, retrievals, strict=True)], outcomes
        ).apgr
        if apgr > best or (apgr == best and abs(weight) < abs(chosen)):
            best, chosen = apgr, weight
    return chosen
