"""A deployment's correction of the shipped analyzer's score, learned from its own labels.

For a message with base score b (the shipped analyzer's own score):

    p = sigmoid(intercept + evidence_slope * E + base_slope * logit(b))
    g = ramp(coverage, raise_from, raise_full) if p > b else ramp(coverage, lower_from, lower_full)
    score = g * p + (1 - g) * b

E is naive-Bayes evidence: the sum of per-key log-ratios (how much likelier a stem or stem pair
is in questions that needed premium) over sqrt(number of keys). `coverage` is the share of the
message's (IDF-weighted) keys the deployment has labelled before (`vocabulary.Vocabulary`): a
message unlike everything labelled keeps its base score, one asked before in other words follows
its labels. Lowering a score risks answer quality while raising it only costs money, so lowering
needs more coverage than raising (measured trade-off in docs/routing.md).
Pure Python; `to_json`/`from_json` round-trip exactly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from routing.analyzer.features import Features
from routing.learning.keys import KEY_BITS, token_keys
from routing.learning.vocabulary import Vocabulary

FORMAT = "switchboard-correction/2"
# A reason is given only when the correction moved the score this much.
REASON_SHIFT = 0.1
_LOGIT_CLIP = 0.02
_NUMBERS = (
    "intercept", "evidence_slope", "base_slope",
    "raise_from", "raise_full", "lower_from", "lower_full",
)  # fmt: skip


def logit(p: float) -> float:
    p = min(max(p, _LOGIT_CLIP), 1.0 - _LOGIT_CLIP)
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def evidence_sum(evidence: Mapping[int, float], keys: tuple[int, ...]) -> float:
    if not keys:
        return 0.0
    return sum(map(evidence.get, keys, itertools.repeat(0.0))) / math.sqrt(len(keys))


@dataclass(frozen=True)
class Correction:
    evidence: Mapping[int, float]
    vocabulary: Vocabulary
    intercept: float
    evidence_slope: float
    base_slope: float
    raise_from: float  # coverage ramps: the correction fades in between *_from and *_full
    raise_full: float
    lower_from: float
    lower_full: float
    base_fingerprint: str = ""
    _evidence: dict[int, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_evidence", dict(self.evidence))

    def probability(self, keys: tuple[int, ...], base: float) -> float:
        """The deployment's own estimate that this message needs premium."""
        z = (
            self.intercept
            + self.evidence_slope * evidence_sum(self._evidence, keys)
            + self.base_slope * logit(base)
        )
        return sigmoid(z)

    def adjust(self, feats: Features, base: float) -> tuple[float, str | None]:
        keys = token_keys(feats.tokens)
        coverage = self.vocabulary.coverage(keys)
        if coverage <= min(self.raise_from, self.lower_from):
            return base, None
        p = self.probability(keys, base)
        if p > base:
            gate = _ramp(coverage, self.raise_from, self.raise_full)
        else:
            gate = _ramp(coverage, self.lower_from, self.lower_full)
        score = min(max(gate * p + (1.0 - gate) * base, 0.0), 1.0)
        if abs(score - base) < REASON_SHIFT:
            return score, None
        raised = score > base
        count = self.vocabulary.support(keys, self._evidence, premium=raised)
        return score, _reason(raised, count)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "key_bits": KEY_BITS}
        out.update({name: getattr(self, name) for name in _NUMBERS})
        out.update(
            base_fingerprint=self.base_fingerprint,
            questions=self.vocabulary.questions,
            evidence={str(key): value for key, value in sorted(self.evidence.items())},
            needed={str(key): n for key, n in sorted(self.vocabulary.needed.items())},
            fine={str(key): n for key, n in sorted(self.vocabulary.fine.items())},
        )
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Correction:
        if raw.get("format") != FORMAT or raw.get("key_bits") != KEY_BITS:
            raise ValueError(f"not a {FORMAT} correction with {KEY_BITS}-bit keys")
        vocabulary = Vocabulary(
            {int(key): int(n) for key, n in raw["needed"].items()},
            {int(key): int(n) for key, n in raw["fine"].items()},
            int(raw["questions"]),
        )
        return cls(
            evidence={int(key): float(value) for key, value in raw["evidence"].items()},
            vocabulary=vocabulary,
            base_fingerprint=str(raw["base_fingerprint"]),
            **{name: float(raw[name]) for name in _NUMBERS},
        )


def _ramp(value: float, start: float, full: float) -> float:
    if full <= start:
        return 1.0 if value >= start else 0.0
    return min(max((value - start) / (full - start), 0.0), 1.0)


def _reason(raised: bool, count: int) -> str:
    if raised:
        if count:
            return f"shares wording with {_questions(count)} that needed premium"
        return "this deployment's labels raised the score"
    if count:
        return f"shares wording with {_questions(count)} a cheaper tier answered well"
    return "this deployment's labels lowered the score"


def _questions(count: int) -> str:
    return f"{count} labelled question{'s' if count != 1 else ''}"
