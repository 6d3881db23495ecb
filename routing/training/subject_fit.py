"""Fitting the subject model of `analyzer_subject` (numpy, offline only).

The logistic regression uses the subject feature as one input, so on its own training rows the
feature must come from a model that did not see them (5-fold cross-fitting); otherwise the
regression would learn to trust an over-confident, memorised posterior.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse

from routing.analyzer.features import N_BUCKETS
from routing.analyzer.subject import SubjectModel

SMOOTHING = 0.1  # additive smoothing of word counts per group
MIN_RATIO = 1.0  # keep a (word, group) pair only if the word is e^1 times likelier there
MIN_COUNT = 2  # ... and was seen at least twice in that group
TEMPERATURE = 3.0  # naive Bayes is over-confident; flatten the posterior
MAX_GROUPS_PER_WORD = 3  # bounds the work per word at run time (-0.001 APGR on the inner split)
PRIOR_RATE = 0.2  # group rates shrink towards this with the weight of 2 prompts
FOLDS = 5


def group_rates(groups: np.ndarray, labels: np.ndarray, n_groups: int) -> np.ndarray:
    counts = np.bincount(groups, minlength=n_groups)
    positives = np.bincount(groups, weights=labels, minlength=n_groups)
    rates: np.ndarray = (positives + 2 * PRIOR_RATE) / (counts + 2)
    return rates


def fit(
    words: scipy.sparse.csr_matrix, groups: np.ndarray, labels: np.ndarray, names: Sequence[str]
) -> dict[str, Any]:
    """Sparse naive Bayes over binary word buckets; returns the JSON form of a SubjectModel."""
    n_groups = len(names)
    counts = np.zeros((n_groups, N_BUCKETS))
    for k in range(n_groups):
        counts[k] = np.asarray(words[groups == k].sum(axis=0)).ravel()
    log_theta = np.log(counts + SMOOTHING) - np.log(
        counts.sum(axis=1, keepdims=True) + SMOOTHING * N_BUCKETS
    )
    pooled = counts.sum(axis=0)
    log_bg = np.log(pooled + SMOOTHING) - np.log(pooled.sum() + SMOOTHING * N_BUCKETS)
    ratio = log_theta - log_bg
    keep = (ratio >= MIN_RATIO) & (counts >= MIN_COUNT)
    pairs: dict[int, list[tuple[float, int]]] = {}
    for k, bucket in zip(*np.nonzero(keep), strict=True):
        pairs.setdefault(int(bucket), []).append((float(ratio[k, bucket]), int(k)))
    evidence = {
        str(bucket): [
            [k, round(r, 3)]
            for r, k in sorted(found, key=lambda p: (-p[0], p[1]))[:MAX_GROUPS_PER_WORD]
        ]
        for bucket, found in sorted(pairs.items())
    }
    prior = np.log(np.bincount(groups, minlength=n_groups) + 1.0)
    prior -= prior.max()
    return {
        "groups": list(names),
        "log_prior": [round(float(p), 4) for p in prior],
        "rates": [round(float(r), 4) for r in group_rates(groups, labels, n_groups)],
        "temperature": TEMPERATURE,
        "evidence": evidence,
    }


def feature(model: dict[str, Any], bucket_rows: Sequence[Sequence[int]]) -> np.ndarray:
    subject = SubjectModel.from_json(model)
    return np.array([subject.rate_logit(row) for row in bucket_rows])


def cross_fitted(
    words: scipy.sparse.csr_matrix,
    bucket_rows: Sequence[Sequence[int]],
    groups: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
) -> np.ndarray:
    """Subject feature for training rows, each from a model fitted without its fold."""
    fold = np.arange(len(bucket_rows)) % FOLDS
    out = np.zeros(len(bucket_rows))
    for f in range(FOLDS):
        fit_rows = np.nonzero(fold != f)[0]
        model = fit(words[fit_rows], groups[fit_rows], labels[fit_rows], names)
        rows = np.nonzero(fold == f)[0]
        out[rows] = feature(model, [bucket_rows[int(i)] for i in rows])
    return out
