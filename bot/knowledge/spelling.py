"""Correcting a misspelled word against the words the documents use: the candidate closest in
edit distance (transpositions count once), within one edit for short words and two for long
ones; among equals, the one more documents use."""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without reuse); any value above
    `limit` is returned as `limit + 1`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i, *([0] * len(b))]
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def allowed_edits(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def correction(word: str, candidates: Iterable[tuple[str, int]]) -> str | None:
    """The best correction of `word` among (term, documents using it), or None."""
    allowed = allowed_edits(word)
    best: tuple[int, int, str] | None = None
    for term, documents in candidates:
        if term == word or not term.isalpha() or (term[0] != word[0] and allowed < 2):
            continue
        distance = edit_distance(word, term, allowed)
        if distance > allowed:
            continue
        key = (distance, -documents, term)
        if best is None or key < best:
            best = key
    return best[2] if best else None
