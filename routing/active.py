"""Which router version live traffic scores with: the shipped analyzer, or a version tuned on the
deployment's own labels. Operators adopt and roll back versions; the slot swaps atomically."""

from __future__ import annotations

from collections.abc import Sequence

from routing.analyzer.scorer import Analysis, Scorer


class ScorerSlot:
    """Holds the active scorer and its version id (None: the shipped analyzer)."""

    def __init__(self, scorer: Scorer, version: int | None = None) -> None:
        self._current = (scorer, version)

    @property
    def version(self) -> int | None:
        return self._current[1]

    @property
    def current(self) -> Scorer:
        return self._current[0]

    def score(
        self, text: str, context: Sequence[str] = (), retrieval: float | None = None
    ) -> tuple[Analysis, int | None]:
        scorer, version = self._current  # one read: a concurrent swap never mixes the two
        return scorer.score(text, context, retrieval), version

    def use(self, scorer: Scorer, version: int | None) -> None:
        self._current = (scorer, version)
