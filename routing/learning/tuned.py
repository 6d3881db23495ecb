"""The shipped analyzer with a deployment's memory of judged questions: same
`score(text, context)` interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from routing.analyzer.scorer import Analysis, QueryAnalyzer, Scorer
from routing.learning.memory import REASON_SHIFT, Memory
from routing.learning.retrieval import shifted

__all__ = ["BaseMismatchError", "Scorer", "TunedAnalyzer"]


class BaseMismatchError(ValueError):
    """A memory was fitted against other analyzer weights than the ones loaded."""


class TunedAnalyzer:
    """Scores like `QueryAnalyzer`, with the memory applied to each message's own score (thread
    lifting and acknowledgement capping work as in the base, on the adjusted scores), then the
    learned retrieval weight applied to the result."""

    def __init__(self, base: QueryAnalyzer, memory: Memory) -> None:
        fitted_on = memory.base_fingerprint
        if fitted_on and base.fingerprint and fitted_on != base.fingerprint:
            raise BaseMismatchError(
                f"router version was fitted on analyzer {fitted_on}, loaded analyzer is "
                f"{base.fingerprint}: tune again"
            )
        self.base = base
        self.memory = memory
        self._scorer = base.adjusted(memory.adjust)

    def score(
        self, text: str, thread_context: Sequence[str] = (), retrieval: float | None = None
    ) -> Analysis:
        analysis = self._scorer.score(text, thread_context)
        score = shifted(analysis.score, retrieval, self.memory.retrieval_weight)
        if abs(score - analysis.score) < REASON_SHIFT:
            return Analysis(score, analysis.reasons) if score != analysis.score else analysis
        way = "lower" if score < analysis.score else "higher"
        reason = f"the docs' answer to it (retrieval confidence {retrieval:.2f}) scores it {way}"
        return Analysis(score, (reason, *analysis.reasons))

    def to_json(self) -> dict[str, Any]:
        return self.memory.to_json()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], base: QueryAnalyzer) -> TunedAnalyzer:
        return cls(base, Memory.from_json(raw))
