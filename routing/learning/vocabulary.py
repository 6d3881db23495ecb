"""Which stem keys a deployment's labelled questions used, and on which side.

It says how much of a new message the deployment has labelled before (coverage: the share of the
message's squared IDF weight on keys seen in labelled questions, which gates the correction) and
backs the reasons ("shares wording with 7 labelled questions that needed premium"). A few
dictionary lookups per key; no search over questions.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Vocabulary:
    needed: Mapping[int, int]  # key -> labelled questions containing it that needed premium
    fine: Mapping[int, int]  # key -> ... that did not (label < 0.5)
    questions: int
    _idf: dict[int, float] = field(init=False, repr=False, compare=False)
    _unseen: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.questions
        counts = {key: self.needed.get(key, 0) + self.fine.get(key, 0)
                  for key in self.needed.keys() | self.fine.keys()}  # fmt: skip
        idf = {key: math.log((n + 1) / (count + 0.5)) for key, count in counts.items()}
        object.__setattr__(self, "_idf", idf)
        object.__setattr__(self, "_unseen", math.log(n + 1.0) ** 2 if n else 1.0)

    @classmethod
    def of(cls, rows: Sequence[tuple[Sequence[int], float]]) -> Vocabulary:
        """From (keys, label) rows."""
        needed: dict[int, int] = {}
        fine: dict[int, int] = {}
        for keys, label in rows:
            side = needed if label >= 0.5 else fine
            for key in keys:
                side[key] = side.get(key, 0) + 1
        return cls(needed, fine, len(rows))

    def coverage(self, keys: Sequence[int]) -> float:
        if not keys:
            return 0.0
        known = [w for w in map(self._idf.get, keys) if w is not None]
        mass = sum(map(operator.mul, known, known))
        return mass / (mass + (len(keys) - len(known)) * self._unseen) if mass > 0 else 0.0

    def support(self, keys: Sequence[int], evidence: Mapping[int, float], premium: bool) -> int:
        """Labelled questions on one side sharing the message's most telling key for that side."""
        if not keys:
            return 0
        scored = zip(map(evidence.get, keys, itertools.repeat(0.0)), keys, strict=True)
        value, best = max(scored) if premium else min(scored)
        if (value <= 0.0) if premium else (value >= 0.0):
            return 0
        return (self.needed if premium else self.fine).get(best, 0)
