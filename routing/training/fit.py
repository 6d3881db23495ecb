"""Train the query analyzer's logistic regression from ../shared/data (offline, numpy/scipy).

Labels follow ../shared/data/README.md: MMLU/GSM8K "needs strong" = strong correct and weak
wrong; arena prompts are hard when their mean judge score is below the median; banking77 and
clinc150 customer queries are weakly labelled "easy" to teach the model what support FAQs look like;
routing/training/data/support_labelled.jsonl (hand-labelled support messages) adds easy/medium/hard.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse

from routing.analyzer.features import DENSE_NAMES, N_BUCKETS, extract
from routing.training import subject_fit

HELDOUT_PERCENT = 20
# The hand-written support set is small, so a larger share is kept for measuring it.
SUPPORT_HELDOUT_PERCENT = 30
SUPPORT_PATH = Path(__file__).with_name("data") / "support_labelled.jsonl"
SUPPORT_LABELS = {"easy": 0.0, "medium": 0.5, "hard": 1.0}
# Support FAQs are plentiful and easy; cap them so they teach "FAQ = cheap" without drowning
# the benchmark signal.
FAQ_SAMPLES_PER_SOURCE = 1500
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
class Example:
    """One prompt with the quality each tier would get (1 = correct) and its training label."""

    text: str
    source: str
    weak_quality: float
    strong_quality: float
    label: float
    group: str = ""  # MMLU subject, support level; defaults to the source

    @property
    def heldout(self) -> bool:
        return is_heldout(self.text, self.source)

    @property
    def kind(self) -> str:
        return self.group or self.source


def is_heldout(text: str, source: str = "") -> bool:
    """Deterministic split by content hash, so the held-out part is stable across runs/machines."""
    digest = hashlib.sha256(text.encode("utf-8", "replace")).digest()
    share = SUPPORT_HELDOUT_PERCENT if source == "support" else HELDOUT_PERCENT
    return int.from_bytes(digest[:8], "big") % 100 < share


def _contaminated(folder: Path) -> set[str]:
    path = folder / "contaminated_prompts.jsonl"
    if not path.exists():
        return set()
    with path.open(encoding="utf-8") as fh:
        return {json.loads(line)["train_prompt"].strip() for line in fh if line.strip()}


def _pair_examples(path: Path, source: str, skip: set[str], group: str = "") -> list[Example]:
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        next(rows)
        for row in rows:
            prompt = row[0]
            if prompt.strip() in skip:
                continue
            weak, strong = row[1] == "True", row[2] == "True"
            out.append(
                Example(
                    prompt, source, float(weak), float(strong), float(strong and not weak), group
                )
            )
    return out


def load_mmlu(data_dir: Path) -> list[Example]:
    folder = data_dir / "routellm" / "mmlu"
    skip = _contaminated(folder)
    return [
        ex
        for p in sorted(folder.glob("*.csv"))
        for ex in _pair_examples(p, "mmlu", skip, p.stem.removeprefix("mmlu_"))
    ]


def load_gsm8k(data_dir: Path) -> list[Example]:
    folder = data_dir / "routellm" / "gsm8k"
    return _pair_examples(folder / "gsm8k_responses.csv", "gsm8k", _contaminated(folder))


def load_arena(data_dir: Path) -> list[Example]:
    """No per-model correctness here: a hard prompt counts as one only the strong tier answers."""
    with (data_dir / "arena_hard_rated" / "arena_prompts_rated.csv").open(encoding="utf-8") as fh:
        rows = [(r["prompt"], float(r["mean_judge_score"])) for r in csv.DictReader(fh)]
    median = float(np.median([score for _, score in rows]))
    return [
        Example(text, "arena", 0.0 if score < median else 1.0, 1.0, float(score < median))
        for text, score in rows
    ]


def load_faq(data_dir: Path, seed: int) -> list[Example]:
    """Real support traffic, weakly labelled easy (both tiers assumed to answer correctly)."""
    banking: list[str] = []
    for name in ("train.csv", "test.csv"):
        with (data_dir / "banking77" / name).open(newline="", encoding="utf-8") as fh:
            banking.extend(row["text"] for row in csv.DictReader(fh))
    with (data_dir / "clinc150" / "data_full.json").open(encoding="utf-8") as fh:
        clinc = [pair[0] for part in json.load(fh).values() for pair in part]
    rng = random.Random(seed)
    out = []
    for source, texts in (("banking77", banking), ("clinc150", clinc)):
        unique = sorted(set(texts))
        for text in rng.sample(unique, min(FAQ_SAMPLES_PER_SOURCE, len(unique))):
            out.append(Example(text, source, 1.0, 1.0, 0.0))
    return out


def load_support(path: Path = SUPPORT_PATH) -> list[Example]:
    """Hand-labelled support messages: hard = 1, medium = 0.5, easy = 0 (no model outcomes)."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                label = SUPPORT_LABELS[row["level"]]
                out.append(
                    Example(
                        row["text"], "support", 1.0 - label, 1.0, label, f"support_{row['level']}"
                    )
                )
    return out


def load_examples(data_dir: Path, seed: int = 0) -> list[Example]:
    return (
        load_mmlu(data_dir)
        + load_gsm8k(data_dir)
        + load_arena(data_dir)
        + load_faq(data_dir, seed)
        + load_support()
    )


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


def train(examples: Sequence[Example], l2: float = L2) -> dict[str, Any]:
    """Fit on `examples` (caller passes the training part only) and return the JSON model."""
    text_x, words, word_rows = design_matrix(ex.text for ex in examples)
    y = np.array([ex.label for ex in examples])
    names = sorted({ex.kind for ex in examples})
    groups = np.array([names.index(ex.kind) for ex in examples])
    subject = subject_fit.fit(words, groups, y, names)
    subject_column = subject_fit.cross_fitted(words, word_rows, groups, y, names)
    x = scipy.sparse.hstack([text_x, scipy.sparse.csr_matrix(subject_column[:, None])]).tocsr()
    rates = subject_fit.group_rates(groups, y, len(names))
    mmlu = np.array([ex.source == "mmlu" for ex in examples], dtype=bool)
    target = np.where(
        mmlu, SUBJECT_LABEL_BLEND * y + (1.0 - SUBJECT_LABEL_BLEND) * rates[groups], y
    )
    weights = np.array([SOURCE_WEIGHTS[ex.source] for ex in examples])
    w, bias = fit_logistic(x, target, weights, l2)
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
    return {
        "format": 2,
        "subject": subject,
        "subject_weight": round(float(w[-1]), 4),
        "n_buckets": N_BUCKETS,
        "bias": round(bias, 4),
        "dense": dense,
        "hashed": hashed,
        "calibration": [round(float(k), 4) for k in knots],
        "trained_on": len(examples),
    }


def train_from_dir(data_dir: Path, seed: int = 0) -> dict[str, Any]:
    train_part = [ex for ex in load_examples(data_dir, seed) if not ex.heldout]
    return train(train_part)


def save_model(model: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(model, separators=(",", ":"), sort_keys=True) + "\n")
