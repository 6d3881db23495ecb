"""A deployment's correction of the shipped analyzer's score, learned from its own labels.

For a message with base score b (the shipped analyzer's own score):

    p = sigmoid(intercept + evidence_slope * E + neighbour_slope * logit(N) + base_slope * logit(b))
    g = ramp(coverage, raise_from, raise_full) if p > b else ramp(coverage, lower_from, lower_full)
    score = g * p + (1 - g) * b

E is naive-Bayes evidence: the sum of per-key log-ratios (how much likelier a stem or stem pair
is in questions that needed premium) over sqrt(number of keys). N is the similarity-weighted
label of the nearest labelled questions (`memory.Memory`), shrunk towards the deployment's rate.
`coverage` is the share of the message's (IDF-weighted) keys the deployment has labelled before:
a message unlike everything labelled keeps its base score, one asked before in other words follows
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
from routing.learning.memory import Memory, Neighbours

FORMAT = "switchboard-correction/1"
# A reason is given only when the correction moved the score this much.
REASON_SHIFT = 0.1
_LOGIT_CLIP = 0.02
_COEFFICIENTS = ("intercept", "evidence_slope", "neighbour_slope", "base_slope")
_SETTINGS = ("rate", "neighbour_prior", "raise_from", "raise_full", "lower_from", "lower_full")


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
    memory: Memory
    intercept: float
    evidence_slope: float
    neighbour_slope: float
    base_slope: float
    rate: float  # weighted share of training labels that needed premium
    neighbour_prior: float  # similarity mass of the rate in the neighbour estimate
    raise_from: float  # coverage ramps: the correction fades in between *_from and *_full
    raise_full: float
    lower_from: float
    lower_full: float
    base_fingerprint: str = ""
    _evidence: dict[int, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_evidence", dict(self.evidence))

    def probability(self, keys: tuple[int, ...], near: Neighbours, base: float) -> float:
        """The deployment's own estimate that this message needs premium."""
        z = (
            self.intercept
            + self.evidence_slope * evidence_sum(self._evidence, keys)
            + self.neighbour_slope * logit(near.estimate(self.neighbour_prior, self.rate))
            + self.base_slope * logit(base)
        )
        return sigmoid(z)

    def adjust(self, feats: Features, base: float) -> tuple[float, str | None]:
        keys = token_keys(feats.tokens)
        near = self.memory.neighbours(keys)
        if near.coverage <= min(self.raise_from, self.lower_from):
            return base, None
        p = self.probability(keys, near, base)
        if p > base:
            gate = _ramp(near.coverage, self.raise_from, self.raise_full)
        else:
            gate = _ramp(near.coverage, self.lower_from, self.lower_full)
        score = min(max(gate * p + (1.0 - gate) * base, 0.0), 1.0)
        return score, _reason(score - base, near.premium, near.cheap)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "key_bits": KEY_BITS}
        out.update({name: getattr(self, name) for name in (*_COEFFICIENTS, *_SETTINGS)})
        out.update(
            base_fingerprint=self.base_fingerprint,
            neighbours=self.memory.k,
            close=self.memory.close,
            evidence={str(key): value for key, value in sorted(self.evidence.items())},
            memory=[[list(keys), label, weight] for keys, label, weight in self.memory.rows],
        )
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Correction:
        if raw.get("format") != FORMAT or raw.get("key_bits") != KEY_BITS:
            raise ValueError(f"not a {FORMAT} correction with {KEY_BITS}-bit keys")
        rows = tuple(
            (tuple(int(k) for k in keys), float(label), float(weight))
            for keys, label, weight in raw["memory"]
        )
        numbers = {name: float(raw[name]) for name in (*_COEFFICIENTS, *_SETTINGS)}
        return cls(
            evidence={int(key): float(value) for key, value in raw["evidence"].items()},
            memory=Memory(rows, int(raw["neighbours"]), float(raw["close"])),
            base_fingerprint=str(raw["base_fingerprint"]),
            **numbers,
        )


def _ramp(value: float, start: float, full: float) -> float:
    if full <= start:
        return 1.0 if value >= start else 0.0
    return min(max((value - start) / (full - start), 0.0), 1.0)


def _questions(count: int) -> str:
    return f"{count} labelled question{'s' if count != 1 else ''}"


def _reason(shift: float, premium: int, cheap: int) -> str | None:
    if abs(shift) < REASON_SHIFT:
        return None
    if shift > 0:
        if premium:
            return f"similar to {_questions(premium)} that needed premium"
        return "this deployment's labels raised the score"
    if cheap:
        return f"similar to {_questions(cheap)} a cheaper tier answered well"
    return "this deployment's labels lowered the score"
