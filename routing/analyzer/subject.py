"""Two-stage signal: guess what kind of question this is, then use how often that kind needs
the strong model.

A sparse naive Bayes over word buckets gives a posterior over training groups (the 57 MMLU
subjects, GSM8K, arena, support FAQ sets, support difficulty levels); the feature is the
posterior-weighted "needs strong" rate of those groups, as a logit. On MMLU the subject alone
explains most of the learnable signal (see docs/routing.md), and a linear model over words cannot
express "probably virology, and virology is hard" as sharply as a posterior can.
Pure Python: a dict lookup per distinct word and one softmax over the groups.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from routing.analyzer.features import N_BUCKETS

# Rates are kept away from 0 and 1 so the logit stays finite.
RATE_FLOOR = 0.01


@dataclass(frozen=True)
class SubjectModel:
    groups: tuple[str, ...]
    log_prior: tuple[float, ...]
    rates: tuple[float, ...]
    temperature: float
    # word bucket -> ((group index, log-likelihood ratio vs. all groups), ...); only the
    # clearly informative pairs are kept, the rest count as background (0).
    evidence: Mapping[int, tuple[tuple[int, float], ...]]
    _table: tuple[tuple[tuple[int, float], ...], ...] = field(init=False, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SubjectModel:
        evidence = {
            int(bucket): tuple((int(k), float(v)) for k, v in pairs)
            for bucket, pairs in raw["evidence"].items()
        }
        groups = tuple(str(g) for g in raw["groups"])
        prior = tuple(float(p) for p in raw["log_prior"])
        rates = tuple(float(r) for r in raw["rates"])
        if not len(groups) == len(prior) == len(rates):
            raise ValueError("subject model: groups, log_prior and rates differ in length")
        return cls(groups, prior, rates, float(raw["temperature"]), evidence)

    def __post_init__(self) -> None:
        # Dense list indexed by bucket: a list index is cheaper than a dict lookup per word,
        # and an empty tuple for uninformative words needs no branch.
        size = max(max(self.evidence, default=-1) + 1, N_BUCKETS)
        object.__setattr__(self, "_table", tuple(self.evidence.get(b, ()) for b in range(size)))

    def _log_odds(self, words: Iterable[int]) -> list[float]:
        z = list(self.log_prior)
        table = self._table
        for bucket in words:
            for k, ratio in table[bucket]:
                z[k] += ratio
        return z

    def posterior(self, words: Iterable[int]) -> list[float]:
        z = self._log_odds(words)
        top = max(z)
        scale = 1.0 / self.temperature
        weights = [math.exp((v - top) * scale) for v in z]
        total = sum(weights)
        return [w / total for w in weights]

    def expected_rate(self, words: Iterable[int]) -> float:
        """sum_k P(k | words) * rate_k."""
        weights = self.posterior(words)
        rate: float = sum(map(operator.mul, weights, self.rates))
        return rate

    def rate_logit(self, words: Sequence[int]) -> float:
        """logit of the expected "needs strong" rate of this message's likely groups."""
        rate = min(max(self.expected_rate(words), RATE_FLOOR), 1.0 - RATE_FLOOR)
        return math.log(rate / (1.0 - rate))
