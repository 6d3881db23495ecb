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

import itertools
import math
import operator
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    # The informative (group, log-likelihood ratio vs. all groups) pairs of each word bucket b
    # are pairs offsets[b] to offsets[b + 1] of `pair_groups` / `pair_ratios`; every other pair
    # counts as background (0). Flat arrays: a few hundred KB that live as long as the process,
    # where a tuple per pair took ~2 MB and parsing around them left more (docs/benchmarks.md).
    offsets: array[int]
    pair_groups: array[int]
    pair_ratios: array[float]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SubjectModel:
        found = sorted((int(bucket), pairs) for bucket, pairs in raw["evidence"].items())
        size = max(found[-1][0] + 1 if found else 0, N_BUCKETS)
        counts = [0] * size
        pair_groups, pair_ratios = array("i"), array("d")
        for bucket, pairs in found:
            counts[bucket] = len(pairs)
            pair_groups.extend(int(k) for k, _ in pairs)
            pair_ratios.extend(float(v) for _, v in pairs)
        offsets = array("i", itertools.accumulate(counts, initial=0))
        groups = tuple(str(g) for g in raw["groups"])
        prior = tuple(float(p) for p in raw["log_prior"])
        rates = tuple(float(r) for r in raw["rates"])
        if not len(groups) == len(prior) == len(rates):
            raise ValueError("subject model: groups, log_prior and rates differ in length")
        temperature = float(raw["temperature"])
        return cls(groups, prior, rates, temperature, offsets, pair_groups, pair_ratios)

    def _log_odds(self, words: Iterable[int]) -> list[float]:
        z = list(self.log_prior)
        offsets, pair_groups, pair_ratios = self.offsets, self.pair_groups, self.pair_ratios
        for bucket in words:
            for i in range(offsets[bucket], offsets[bucket + 1]):
                z[pair_groups[i]] += pair_ratios[i]
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
