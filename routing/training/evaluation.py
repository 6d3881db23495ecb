"""Router quality metrics the RouteLLM way (APGR, CPT) and the baselines they are compared with.

Give every prompt a score (higher = needs the strong model), send the top k prompts to the strong
model and the rest to the weak one, and track mean quality as k goes from 0 to n. APGR is the area
under that curve after scaling always-weak to 0 and always-strong to 1; CPT(x) is the smallest
share of strong calls that recovers x of the gap. Tied scores are split in expectation (as if ties
were broken at random), so a three-level router like `keyword` is not flattered by input order.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routing.keyword import keyword_score


@dataclass(frozen=True)
class RouterMetrics:
    apgr: float
    cpt50: float
    cpt80: float
    n: int


def quality_curve(
    scores: Sequence[float], weak: Sequence[float], strong: Sequence[float]
) -> list[float]:
    """Mean quality with k = 0..n prompts routed to the strong model (n + 1 points)."""
    n = len(scores)
    if n == 0 or not len(weak) == len(strong) == n:
        raise ValueError("scores, weak and strong must be non-empty and of equal length")
    order = sorted(range(n), key=lambda i: -scores[i])
    total = float(sum(weak))
    curve = [total / n]
    start = 0
    while start < n:
        end = start
        while end < n and scores[order[end]] == scores[order[start]]:
            end += 1
        gain = sum(strong[i] - weak[i] for i in order[start:end])
        size = end - start
        curve.extend((total + gain * j / size) / n for j in range(1, size + 1))
        total += gain
        start = end
    return curve


def _pgr(curve: Sequence[float]) -> list[float]:
    weak, strong = curve[0], curve[-1]
    if strong <= weak:
        raise ValueError("APGR needs the strong model to beat the weak one on this set")
    return [(q - weak) / (strong - weak) for q in curve]


def apgr(scores: Sequence[float], weak: Sequence[float], strong: Sequence[float]) -> float:
    """Average performance gap recovered over k in [0, 100%] (trapezoid on every integer k)."""
    pgr = _pgr(quality_curve(scores, weak, strong))
    steps = len(pgr) - 1
    return sum((a + b) / 2.0 for a, b in itertools.pairwise(pgr)) / steps


def cpt(
    scores: Sequence[float], weak: Sequence[float], strong: Sequence[float], target: float
) -> float:
    """Smallest share of strong calls whose recovered gap reaches `target` (linear between k)."""
    pgr = _pgr(quality_curve(scores, weak, strong))
    steps = len(pgr) - 1
    for k in range(1, len(pgr)):
        if pgr[k] >= target:
            low, high = pgr[k - 1], pgr[k]
            fraction = (target - low) / (high - low) if high > low else 1.0
            return (k - 1 + max(0.0, fraction)) / steps
    return 1.0


def metrics(
    scores: Sequence[float], weak: Sequence[float], strong: Sequence[float]
) -> RouterMetrics:
    return RouterMetrics(
        apgr=apgr(scores, weak, strong),
        cpt50=cpt(scores, weak, strong, 0.5),
        cpt80=cpt(scores, weak, strong, 0.8),
        n=len(scores),
    )


def auc(scores: Sequence[float], labels: Sequence[float]) -> float:
    """ROC AUC (ties count half): how often a hard prompt outscores an easy one."""
    ranked = sorted(zip(scores, labels, strict=True))
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2.0
        rank_sum += mean_rank * sum(1 for _, y in ranked[i:j] if y > 0.5)
        i = j
    positives = sum(1 for y in labels if y > 0.5)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs both classes")
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def random_scorer(seed: int = 0) -> Callable[[Sequence[str]], list[float]]:
    """The random-routing baseline: seeded, so its numbers reproduce."""

    def score(texts: Sequence[str]) -> list[float]:
        rng = random.Random(seed)
        return [rng.random() for _ in texts]

    return score


def keyword_scores(texts: Sequence[str]) -> list[float]:
    return [keyword_score(text) for text in texts]


Scorer = Callable[[Sequence[str]], list[float]]
BENCHMARKS = ("mmlu", "gsm8k", "arena")
# Reported sets: each benchmark, the hand-labelled support messages (hard = only the strong tier
# answers well, medium = half), the chat-like slice and the pooled benchmarks.
GROUPS: dict[str, tuple[str, ...]] = {
    "mmlu": ("mmlu",),
    "gsm8k": ("gsm8k",),
    "arena": ("arena",),
    "support": ("support",),
    "chat": ("arena", "support"),
    "overall": BENCHMARKS,
}


@dataclass(frozen=True)
class LabelledPrompt:
    """A prompt with the quality (0..1) each tier gets on it; `hard` feeds the AUC."""

    text: str
    source: str
    weak_quality: float
    strong_quality: float
    hard: bool
    group: str = ""  # e.g. the MMLU subject or "support_hard"


def evaluate(
    prompts: Sequence[LabelledPrompt], scorers: dict[str, Scorer]
) -> dict[str, dict[str, RouterMetrics]]:
    """Metrics per set of `GROUPS`, for each named scorer."""
    groups = {name: [p for p in prompts if p.source in members] for name, members in GROUPS.items()}
    table: dict[str, dict[str, RouterMetrics]] = {}
    for group, items in groups.items():
        if not items:
            continue
        weak = [p.weak_quality for p in items]
        strong = [p.strong_quality for p in items]
        texts = [p.text for p in items]
        table[group] = {
            name: metrics(score(texts), weak, strong) for name, score in scorers.items()
        }
    return table


def hard_auc(prompts: Sequence[LabelledPrompt], scorer: Scorer) -> float:
    return auc(scorer([p.text for p in prompts]), [float(p.hard) for p in prompts])


@dataclass(frozen=True)
class SupportMetrics:
    """Hard vs. easy hand-labelled support messages (medium ones are left out)."""

    auc: float
    hard_above_easy_median: float  # share of hard messages scored above the easy median
    n_hard: int
    n_easy: int


def support_metrics(prompts: Sequence[LabelledPrompt], scorer: Scorer) -> SupportMetrics:
    items = [p for p in prompts if p.group in ("support_hard", "support_easy")]
    scores = scorer([p.text for p in items])
    hard = [s for s, p in zip(scores, items, strict=True) if p.group == "support_hard"]
    easy = sorted(s for s, p in zip(scores, items, strict=True) if p.group == "support_easy")
    if not hard or not easy:
        raise ValueError("support metrics need hard and easy messages")
    mid = len(easy) // 2
    median = easy[mid] if len(easy) % 2 else (easy[mid - 1] + easy[mid]) / 2.0
    return SupportMetrics(
        auc=auc(hard + easy, [1.0] * len(hard) + [0.0] * len(easy)),
        hard_above_easy_median=sum(1 for s in hard if s > median) / len(hard),
        n_hard=len(hard),
        n_easy=len(easy),
    )
