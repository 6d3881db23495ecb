"""Model selection on a chat-like validation slice, kept apart from the held-out test split.

Only the training part is used (`Example.heldout` is never touched): it is cut into
`FOLDS` folds by sha256("validation:" + prompt), each fold is scored by a model trained on the
other folds, and the out-of-fold scores are measured per source. The chat-like slice is the
arena prompts plus the hand-labelled support messages, not the MMLU-dominated pool. Differences
against the shipped configuration come with a paired bootstrap interval over prompts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.metrics import Interval, Outcome, compare, point_metrics
from routing.training.datasets import Example
from routing.training.evaluation import auc
from routing.training.fit import SOURCE_WEIGHTS, TrainConfig, train

logger = logging.getLogger(__name__)

FOLDS = 5
CHAT_SOURCES = ("arena", "support")
APGR_SOURCES = ("mmlu", "gsm8k", "arena", "support")
CANDIDATES: dict[str, TrainConfig] = {
    "shipped": TrainConfig(),
    "arena-x8": TrainConfig(source_weights={**SOURCE_WEIGHTS, "arena": 8.0}),
    "arena-graded": TrainConfig(arena_target="graded"),
    "l2-x2": TrainConfig(l2=1.0),
    "no-subject": TrainConfig(subject_feature=False),
}


def validation_fold(text: str, folds: int = FOLDS) -> int:
    digest = hashlib.sha256(b"validation:" + text.encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:8], "big") % folds


def out_of_fold_scores(
    examples: Sequence[Example], config: TrainConfig, arena: Mapping[str, float],
    folds: int = FOLDS,
) -> list[float]:  # fmt: skip
    fold_of = [validation_fold(ex.text, folds) for ex in examples]
    scores = [0.0] * len(examples)
    for fold in range(folds):
        fit_part = [ex for ex, f in zip(examples, fold_of, strict=True) if f != fold]
        analyzer = QueryAnalyzer.from_json(train(fit_part, config, arena))
        for i, f in enumerate(fold_of):
            if f == fold:
                scores[i] = analyzer.score(examples[i].text).score
        logger.info("fold %d/%d done", fold + 1, folds)
    return scores


@dataclass(frozen=True)
class SourceResult:
    source: str
    n: int
    apgr: float | None  # None where the source has no quality gap (banking77, clinc150)
    auc: float | None  # hard vs. easy (arena: below-median judge score; support: hard vs easy)
    mean_score: float


def _outcomes(examples: Sequence[Example]) -> list[Outcome]:
    return [Outcome(ex.weak_quality, ex.strong_quality) for ex in examples]


def source_results(examples: Sequence[Example], scores: Sequence[float]) -> list[SourceResult]:
    results = []
    sources = [*APGR_SOURCES, "banking77", "clinc150"]
    for source in [*sources, "chat"]:
        members = CHAT_SOURCES if source == "chat" else (source,)
        rows = [(ex, s) for ex, s in zip(examples, scores, strict=True) if ex.source in members]
        if not rows:
            continue
        items, values = [ex for ex, _ in rows], [s for _, s in rows]
        apgr = area = None
        if source in (*APGR_SOURCES, "chat"):
            apgr = point_metrics(values, _outcomes(items)).apgr
            hard = [(v, ex.label) for ex, v in rows if ex.label in (0.0, 1.0)]
            area = auc([v for v, _ in hard], [y for _, y in hard])
        results.append(SourceResult(source, len(rows), apgr, area, sum(values) / len(values)))
    return results


def chat_gain(
    examples: Sequence[Example], baseline: Sequence[float], candidate: Sequence[float],
    seed: int = 0,
) -> Interval:  # fmt: skip
    """Paired-bootstrap interval of the chat-slice APGR difference (candidate - baseline)."""
    rows = [i for i, ex in enumerate(examples) if ex.source in CHAT_SOURCES]
    return compare(
        [baseline[i] for i in rows], [candidate[i] for i in rows],
        _outcomes([examples[i] for i in rows]), seed=seed,
    ).apgr_gain  # fmt: skip
