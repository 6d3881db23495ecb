"""Nearest labelled questions of a deployment: an inverted index over stem keys (TF-IDF cosine).

It says how much of a new question the deployment has labelled before (coverage, which gates
the correction), what its nearest labelled questions were labelled (a feature of the correction)
and how many of them needed premium (the reasons). Work per query is bounded: similarities are
accumulated over the message's `QUERY_KEYS` rarest known keys only (they decide the nearest
neighbours; common keys add little weight to a cosine), each keeping its `POSTINGS_LIMIT`
strongest rows.
"""

from __future__ import annotations

import heapq
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

KEY_LIMIT = 96
QUERY_KEYS = 4
POSTINGS_LIMIT = 16
# Below this coverage the neighbours are not searched for (the estimate falls back to the
# deployment's rate): most unfamiliar messages then cost a few dictionary lookups.
SEARCH_FROM = 0.2


@dataclass(frozen=True)
class Neighbours:
    """The `k` most similar labelled questions, summarised."""

    top: float  # highest cosine similarity (0 when nothing shares a key)
    coverage: float  # share of the message's IDF weight (squared) on keys the memory knows
    mass: float  # sum of similarity x row weight
    label_mass: float  # sum of similarity x row weight x row label
    premium: int  # close ones (similarity >= `close`) that needed premium (label >= 0.5)
    cheap: int  # close ones that did not

    def estimate(self, prior: float, rate: float) -> float:
        """Similarity-weighted label mean, shrunk towards `rate` with weight `prior`."""
        return (self.label_mass + prior * rate) / (self.mass + prior)


NO_NEIGHBOURS = Neighbours(0.0, 0.0, 0.0, 0.0, 0, 0)


@dataclass(frozen=True)
class Memory:
    """Labelled questions as (sorted stem keys, label, weight) rows."""

    rows: tuple[tuple[tuple[int, ...], float, float], ...]
    k: int = 10
    close: float = 0.15
    _postings: dict[int, tuple[tuple[int, float], ...]] = field(
        init=False, repr=False, compare=False
    )
    _idf: dict[int, float] = field(init=False, repr=False, compare=False)
    _unknown_idf: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.rows)
        df = Counter(key for keys, _, _ in self.rows for key in keys)
        idf = {key: math.log((n + 1) / (count + 0.5)) for key, count in df.items()}
        postings: defaultdict[int, list[tuple[int, float]]] = defaultdict(list)
        for index, (keys, _, _) in enumerate(self.rows):
            norm = math.sqrt(sum(idf[key] ** 2 for key in keys)) or 1.0
            for key in keys:
                postings[key].append((index, idf[key] / norm))
        # Common keys carry little weight; keeping their strongest rows bounds the work.
        bounded = {
            key: tuple(heapq.nlargest(POSTINGS_LIMIT, rows, key=operator.itemgetter(1)))
            for key, rows in postings.items()
        }
        object.__setattr__(self, "_postings", bounded)
        object.__setattr__(self, "_idf", idf)
        object.__setattr__(self, "_unknown_idf", math.log(n + 1.0) if n else 1.0)

    def neighbours(self, keys: Sequence[int]) -> Neighbours:
        """The nearest labelled questions; only the coverage when it is below `SEARCH_FROM`."""
        if not self.rows or not keys:
            return NO_NEIGHBOURS
        idf = self._idf
        keys = keys[:KEY_LIMIT]
        known = [(w, key) for key, w in zip(keys, map(idf.get, keys), strict=True) if w is not None]
        if not known:
            return NO_NEIGHBOURS
        mass = sum(w * w for w, _ in known)
        squares = mass + (len(keys) - len(known)) * self._unknown_idf**2
        coverage = mass / squares
        if coverage < SEARCH_FROM:
            return Neighbours(0.0, coverage, 0.0, 0.0, 0, 0)
        norm = math.sqrt(squares)
        known.sort(reverse=True)
        sims: defaultdict[int, float] = defaultdict(float)
        postings = self._postings
        for weight, key in known[:QUERY_KEYS]:
            scale = weight / norm
            for index, value in postings[key]:
                sims[index] += scale * value
        top = sorted(sims.items(), key=operator.itemgetter(1), reverse=True)[: self.k]
        rows = self.rows
        total = label_mass = 0.0
        premium = cheap = 0
        for index, sim in top:
            _, label, weight = rows[index]
            total += sim * weight
            label_mass += sim * weight * label
            if sim >= self.close:
                if label >= 0.5:
                    premium += 1
                else:
                    cheap += 1
        return Neighbours(top[0][1], coverage, total, label_mass, premium, cheap)
