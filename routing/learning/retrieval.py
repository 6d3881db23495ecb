"""How the knowledge base's retrieval confidence moves a routing score: a weight learned from the
deployment's own labels, never a hand-set discount.

A question whose answer the docs hold may be answered as well by a cheaper model given the
passage; whether that is so depends on the deployment's models and docs. So the shift is
    score' = sigmoid(logit(score) - weight x confidence)
(monotone in both; weight 0: no shift), and `learn_weight` estimates the weight on labels that
carry their question's confidence: a logistic regression of the label on logit(score) and the
confidence, whose confidence coefficient, expressed in units of the score's own, is the weight;
it is kept only when it differs from 0 at about 95% confidence (|z| >= `Z`), so labels that do
not depend on the retrieval learn none. In units of the confidence: a change of its scale
changes nothing here. Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z = 1.96  # how many standard errors from 0 a weight must be to be kept
_EDGE = 1e-4
_RIDGE = 1e-3  # keeps separable labels finite
_MIN_SLOPE = 0.25  # the score's own coefficient, floored: a weight stays in bounded units


def _logit(score: float) -> float:
    s = min(max(score, _EDGE), 1.0 - _EDGE)
    return math.log(s / (1.0 - s))


def shifted(score: float, retrieval: float | None, weight: float) -> float:
    if not weight or not retrieval:
        return score
    return 1.0 / (1.0 + math.exp(weight * retrieval - _logit(score)))


def _solve(h: list[list[float]], g: list[float]) -> list[float]:
    """h x = g for a small symmetric positive definite h (Gaussian elimination)."""
    n = len(g)
    a = [[*row, g[i]] for i, row in enumerate(h)]
    for c in range(n):
        pivot = max(range(c, n), key=lambda r: abs(a[r][c]))
        a[c], a[pivot] = a[pivot], a[c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            for k in range(c, n + 1):
                a[r][k] -= f * a[c][k]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (a[r][n] - sum(a[r][k] * x[k] for k in range(r + 1, n))) / a[r][r]
    return x


def learn_weight(
    scores: Sequence[float],
    retrievals: Sequence[float | None],
    labels: Sequence[float],
    weights: Sequence[float] | None = None,
) -> float:
    """The retrieval weight these labels (needs premium, 0..1) support; 0 when none of them
    was searched or when the estimate is within `Z` standard errors of 0."""
    if not any(retrievals):
        return 0.0
    rows = [(1.0, _logit(s), r or 0.0) for s, r in zip(scores, retrievals, strict=True)]
    w = weights or [1.0] * len(rows)
    beta = [0.0, 0.0, 0.0]
    hessian = [[0.0] * 3 for _ in range(3)]
    for _ in range(25):  # Newton steps on the weighted log-likelihood
        gradient = [-_RIDGE * b for b in beta]
        hessian = [[_RIDGE * (i == j) for j in range(3)] for i in range(3)]
        for x, y, v in zip(rows, labels, w, strict=True):
            eta = beta[0] + beta[1] * x[1] + beta[2] * x[2]
            p = 1.0 / (1.0 + math.exp(-max(min(eta, 30.0), -30.0)))
            for i in range(3):
                gradient[i] += v * (y - p) * x[i]
                for j in range(3):
                    hessian[i][j] += v * p * (1.0 - p) * x[i] * x[j]
        step = _solve(hessian, gradient)
        beta = [b + d for b, d in zip(beta, step, strict=True)]
        if max(map(abs, step)) < 1e-8:
            break
    spread = _solve(hessian, [0.0, 0.0, 1.0])[2]  # the variance of the confidence coefficient
    if spread <= 0.0 or abs(beta[2]) < Z * math.sqrt(spread):
        return 0.0
    # Label odds fall by beta[2] per unit of confidence, and rise by beta[1] per unit of the
    # score's logit: shifting the score's logit by -beta[2] / beta[1] ranks as the fit does.
    return -beta[2] / max(beta[1], _MIN_SLOPE)
