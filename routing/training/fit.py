"""Train the query analyzer's logistic regression (offline, numpy/scipy: the `train` extra).

Data and labels: routing.training.datasets. The caller passes the training part only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse

from routing.analyzer.features import DENSE_NAMES, N_BUCKETS, extract
from routing.training import subject_fit
from routing.training.datasets import Example

SOURCE_WEIGHTS = {
    "mmlu": 1.0,
    "gsm8k": 1.0,
    "arena": 4.0,
    "banking77": 0.5,
    "clinc150": 0.5,
    "support": 3.0,
}
# MMLU labels are one noisy coin per prompt; blending in the subject's rate (training part only)
# denoises them. Chosen on the inner split (docs/routing.md).
SUBJECT_LABEL_BLEND = 0.5
# Chosen on an inner 20% split of the training part (see docs/routing.md).
L2 = 0.5
# The benchmarks hold almost no stack traces, error codes or code, so the fit cannot learn what
# they mean for a support bot. These hand-set floors on their weights (logit units) say it
# instead; they barely move benchmark scores because the signals are rare there.
SUPPORT_PRIORS = {
    "stack_trace": 2.5,
    "error_code": 1.0,
    "code_block": 1.5,
    "inline_code": 0.5,
    "reasoning_verbs": 1.0,
}
CALIBRATION_KNOTS = 20


@dataclass(frozen=True)
class TrainConfig:
    """What model selection may vary; the defaults are the shipped model."""

    l2: float = L2
    source_weights: Mapping[str, float] = field(default_factory=lambda: dict(SOURCE_WEIGHTS))
    subject_label_blend: float = SUBJECT_LABEL_BLEND
    # Arena target: "binary" (below the median judge score = 1) or "graded" (the share of arena
    # prompts with a higher judge score, so the hardest prompt is ~1 and the easiest ~0).
    arena_target: str = "binary"
    subject_feature: bool = True


def design_matrix(
    texts: Iterable[str],
) -> tuple[scipy.sparse.csr_matrix, scipy.sparse.csr_matrix, list[tuple[int, ...]]]:
    """[hashed buckets | dense hand features] rows, binary unigram rows and unigram buckets,
    all built by the runtime extractor."""
    data: list[float] = []
    cols: list[int] = []
    indptr = [0]
    word_rows: list[tuple[int, ...]] = []
    n_dense = len(DENSE_NAMES)
    for text in texts:
        feats = extract(text)
        cols.extend(feats.buckets)
        data.extend([feats.hashed_value] * len(feats.buckets))
        cols.extend(range(N_BUCKETS, N_BUCKETS + n_dense))
        data.extend(feats.dense)
        indptr.append(len(cols))
        word_rows.append(feats.words)
    shape = (len(indptr) - 1, N_BUCKETS + n_dense)
    x = scipy.sparse.csr_matrix((data, cols, indptr), shape=shape)
    word_cols = [b for row in word_rows for b in row]
    word_indptr = np.cumsum([0] + [len(row) for row in word_rows])
    words = scipy.sparse.csr_matrix(
        (np.ones(len(word_cols)), word_cols, word_indptr), shape=(len(word_rows), N_BUCKETS)
    )
    return x, words, word_rows


def fit_logistic(
    x: scipy.sparse.csr_matrix, y: np.ndarray, weights: np.ndarray, l2: float = L2
) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression by L-BFGS: deterministic for a given input."""
    n_features = x.shape[1]
    total = float(weights.sum())

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = x @ w + b
        # log(1 + e^z) - y z, computed stably.
        nll = np.logaddexp(0.0, z) - y * z
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        g = weights * (p - y) / total
        value = float(weights @ nll) / total + 0.5 * l2 * float(w @ w) / total
        grad = np.empty(n_features + 1)
        grad[:-1] = x.T @ g + l2 * w / total
        grad[-1] = g.sum()
        return value, grad

    result = scipy.optimize.minimize(
        loss, np.zeros(n_features + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    params: np.ndarray = result.x
    return params[:-1], float(params[-1])


def _arena_grades(examples: Sequence[Example], scores: Mapping[str, float]) -> dict[str, float]:
    """Per arena prompt: share of the other arena prompts with a higher judge score."""
    texts = [ex.text for ex in examples if ex.source == "arena"]
    ordered = sorted(scores[t] for t in texts)
    n = max(len(ordered) - 1, 1)
    return {
        t: sum(1 for s in ordered if s > scores[t]) / n + 0.5 * (ordered.count(scores[t]) - 1) / n
        for t in texts
    }


def train(
    examples: Sequence[Example],
    config: TrainConfig = TrainConfig(),
    arena_scores: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Fit on `examples` (caller passes the training part only) and return the JSON model.

    `arena_scores` (prompt -> mean judge score) is needed for the graded arena target only."""
    text_x, words, word_rows = design_matrix(ex.text for ex in examples)
    y = np.array([ex.label for ex in examples])
    names = sorted({ex.kind for ex in examples})
    groups = np.array([names.index(ex.kind) for ex in examples])
    subject = subject_fit.fit(words, groups, y, names)
    # Without the subject feature its column is all zeros, so its weight stays 0.
    subject_column = (
        subject_fit.cross_fitted(words, word_rows, groups, y, names)
        if config.subject_feature
        else np.zeros(len(examples))
    )
    x = scipy.sparse.hstack([text_x, scipy.sparse.csr_matrix(subject_column[:, None])]).tocsr()
    rates = subject_fit.group_rates(groups, y, len(names))
    mmlu = np.array([ex.source == "mmlu" for ex in examples], dtype=bool)
    blend = config.subject_label_blend
    target = np.where(mmlu, blend * y + (1.0 - blend) * rates[groups], y)
    if config.arena_target == "graded":
        if arena_scores is None:
            raise ValueError("the graded arena target needs the arena judge scores")
        grades = _arena_grades(examples, arena_scores)
        target = np.array(
            [grades.get(ex.text, t) if ex.source == "arena" else t
             for ex, t in zip(examples, target, strict=True)]
        )  # fmt: skip
    weights = np.array([config.source_weights[ex.source] for ex in examples])
    w, bias = fit_logistic(x, target, weights, config.l2)
    for name, floor in SUPPORT_PRIORS.items():
        column = N_BUCKETS + DENSE_NAMES.index(name)
        w[column] = max(w[column], floor)
    # Knots of the logit distribution on benchmark prompts: the runtime maps a logit to "share of
    # benchmark questions easier than this one", so 0.5 means median difficulty. Monotone, so
    # rankings (and APGR) are unchanged.
    bench = np.array([ex.source in ("mmlu", "gsm8k", "arena") for ex in examples])
    logits = x[bench] @ w + bias
    knots = np.quantile(logits, np.linspace(0.0, 1.0, CALIBRATION_KNOTS + 1))
    hashed = {str(i): round(float(v), 4) for i, v in enumerate(w[:N_BUCKETS]) if abs(v) >= 1e-4}
    dense = {name: round(float(v), 4) for name, v in zip(DENSE_NAMES, w[N_BUCKETS:-1], strict=True)}
    model: dict[str, Any] = {
        "format": 2,
        "subject_weight": round(float(w[-1]), 4),
        "n_buckets": N_BUCKETS,
        "bias": round(bias, 4),
        "dense": dense,
        "hashed": hashed,
        "calibration": [round(float(k), 4) for k in knots],
        "trained_on": len(examples),
    }
    if config.subject_feature:
        model["subject"] = subject
    return model


def save_model(model: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(model, separators=(",", ":"), sort_keys=True) + "\n")
