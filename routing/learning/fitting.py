"""Fitting a `Correction` from labelled examples: naive-Bayes key evidence, then a small logistic
regression (intercept, evidence, base logit) on cross-fitted evidence.

A nearest-neighbour estimate as a fourth input added nothing measurable on the replays (gain
ratios equal to 0.001) at twice the scoring cost, so it was dropped (docs/routing.md).

Cross-fitting matters: on its own training rows naive-Bayes evidence is over-confident (every
key it saw agrees with the label), so the regression would trust it far too much. Each row's
evidence therefore comes from the other folds. With labels that carry no signal the fitted
evidence slope goes to ~0 and the correction stays close to the base score.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from routing.learning.correction import Correction, evidence_sum, logit, sigmoid
from routing.learning.examples import LabelledExample
from routing.learning.keys import split_key, text_keys
from routing.learning.vocabulary import Vocabulary


@dataclass(frozen=True)
class FitSettings:
    smoothing: float = 0.5  # additive smoothing of the weighted key counts
    folds: int = 5  # cross-fitting folds for the features the regression sees
    ridge: float = 1.0  # L2 on the regression's slopes, in units of example weight
    # Coverage ramps (share of a message's IDF weight on keys seen in labels): a raise fades in
    # between raise_from and raise_full, a lowering between lower_from and lower_full.
    raise_from: float = 0.05
    raise_full: float = 0.2
    lower_from: float = 0.25
    lower_full: float = 0.45
    # User signals are selection-biased (people escalate failures far more often than they
    # thumb up successes), so their two sides get equal total weight; judged comparisons keep
    # theirs.
    balance_signals: bool = True


Row = tuple[tuple[int, ...], float, float]  # keys, label, weight


def _evidence(rows: Sequence[Row], smoothing: float) -> dict[int, float]:
    """Per key: log P(key | needs premium) - log P(key | not), with weighted soft counts."""
    positive: defaultdict[int, float] = defaultdict(float)
    negative: defaultdict[int, float] = defaultdict(float)
    total_pos = total_neg = 0.0
    for keys, label, weight in rows:
        for key in keys:
            positive[key] += weight * label
            negative[key] += weight * (1.0 - label)
        total_pos += weight * label
        total_neg += weight * (1.0 - label)
    pos_norm = math.log(total_pos + smoothing)
    neg_norm = math.log(total_neg + smoothing)
    shift = neg_norm - pos_norm
    return {
        key: round(
            math.log(positive[key] + smoothing) - math.log(negative[key] + smoothing) + shift, 4
        )
        for key in positive.keys() | negative.keys()
    }


def _fold(text: str, folds: int) -> int:
    digest = hashlib.sha256(b"fold:" + split_key(text).encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:8], "big") % folds


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting for the tiny Newton systems."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= factor * a[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (a[r][n] - sum(a[r][c] * out[c] for c in range(r + 1, n))) / a[r][r]
    return out


def _logistic(
    xs: Sequence[Sequence[float]], ys: Sequence[float], ws: Sequence[float], ridge: float,
    free: Sequence[bool], iterations: int = 25,
) -> list[float]:  # fmt: skip
    """Weighted logistic regression with soft labels by Newton's method; column 0 is the
    intercept (not penalised); parameters not `free` stay 0."""
    active = [j for j, f in enumerate(free) if f]
    beta = [0.0] * len(free)
    for _ in range(iterations):
        grad = [0.0] * len(active)
        hess = [[0.0] * len(active) for _ in active]
        for x, y, w in zip(xs, ys, ws, strict=True):
            p = sigmoid(sum(b * v for b, v in zip(beta, x, strict=True)))
            d, h = w * (p - y), w * p * (1.0 - p)
            for i, j in enumerate(active):
                grad[i] += d * x[j]
                for k, m in enumerate(active):
                    hess[i][k] += h * x[j] * x[m]
        for i, j in enumerate(active):
            penalty = ridge if j else 1e-6
            grad[i] += penalty * beta[j]
            hess[i][i] += penalty
        step = _solve(hess, grad)
        for i, j in enumerate(active):
            beta[j] -= step[i]
        if max(map(abs, step), default=0.0) < 1e-7:
            break
    return beta


def balanced_weights(examples: Sequence[LabelledExample]) -> list[float]:
    """Example weights with user signals rescaled so that the label mass saying "needed premium"
    equals the mass saying "did not" (shadow comparisons are a random sample: left as they are)."""
    positive = sum(ex.weight * ex.needs_premium for ex in examples if ex.kind != "shadow")
    negative = sum(ex.weight * (1.0 - ex.needs_premium) for ex in examples if ex.kind != "shadow")
    if positive <= 0.0 or negative <= 0.0:
        return [ex.weight for ex in examples]
    half = (positive + negative) / 2.0
    out = []
    for ex in examples:
        if ex.kind == "shadow":
            out.append(ex.weight)
        else:
            # Soft labels split their weight between the sides in proportion.
            scale = ex.needs_premium * half / positive + (1.0 - ex.needs_premium) * half / negative
            out.append(ex.weight * scale)
    return out


def fit_correction(
    examples: Sequence[LabelledExample],
    base_scores: Sequence[float],
    settings: FitSettings = FitSettings(),
    base_fingerprint: str = "",
) -> Correction:
    """Fit on `examples` (the caller passes the training part only); `base_scores` are the
    shipped analyzer's own scores of their texts."""
    if len(examples) != len(base_scores):
        raise ValueError("one base score per example is needed")
    weights = (
        balanced_weights(examples)
        if settings.balance_signals
        else [ex.weight for ex in examples]
    )
    rows: list[Row] = [
        (text_keys(ex.text), ex.needs_premium, weight)
        for ex, weight in zip(examples, weights, strict=True)
    ]
    folds = [_fold(ex.text, settings.folds) for ex in examples]
    xs: list[tuple[float, ...]] = [()] * len(rows)
    for fold in range(settings.folds):
        evidence = _evidence([r for r, f in zip(rows, folds, strict=True) if f != fold],
                             settings.smoothing)  # fmt: skip
        for i, f in enumerate(folds):
            if f == fold:
                xs[i] = (1.0, evidence_sum(evidence, rows[i][0]), logit(base_scores[i]))
    ys = [label for _, label, _ in rows]
    ws = [weight for _, _, weight in rows]
    free = [True] * 3
    beta = _logistic(xs, ys, ws, settings.ridge, free)
    # Negative slopes would invert the evidence or the shipped analyzer: refit without them.
    while any(b < 0 for b in beta[1:]):
        free = [True] + [f and b >= 0 for f, b in zip(free[1:], beta[1:], strict=True)]
        beta = _logistic(xs, ys, ws, settings.ridge, free)
    intercept, evidence_slope, base_slope = (round(b, 6) for b in beta)
    return Correction(
        evidence=_evidence(rows, settings.smoothing),
        vocabulary=Vocabulary.of([(keys, label) for keys, label, weight in rows if weight > 0]),
        intercept=intercept,
        evidence_slope=evidence_slope,
        base_slope=base_slope,
        raise_from=settings.raise_from,
        raise_full=settings.raise_full,
        lower_from=settings.lower_from,
        lower_full=settings.lower_full,
        base_fingerprint=base_fingerprint,
    )
