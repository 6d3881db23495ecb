"""A deployment's labelled questions: what the tuning loop learns from.

The bot turns its signals into these (the weights are settings; proposed defaults in
`DEFAULT_WEIGHTS`, see docs/routing.md). Values only: no I/O, nothing mutable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Kind = Literal["shadow", "escalation", "thumbs_down", "thumbs_up", "solved"]
KINDS: tuple[Kind, ...] = ("shadow", "escalation", "thumbs_down", "thumbs_up", "solved")

# Proposed settings: how far each kind of label is trusted, and the label it carries when the
# signal itself has no score. A judge comparing both answers is the strongest evidence; a user
# asking for a stronger model says the cheap answer fell short; 👍/"Solved" only says the answer
# given was good enough, and 👎 is often about something else (tone, length, policy).
DEFAULT_WEIGHTS: dict[Kind, float] = {
    "shadow": 1.0,
    "escalation": 0.8,
    "thumbs_down": 0.3,
    "thumbs_up": 0.3,
    "solved": 0.3,
}
# Premium's lead in judged quality (0..1) at which a shadow comparison counts fully as "needed
# premium": 3 points of a 1-10 judge.
FULL_GAP = 3.0 / 9.0
DEFAULT_LABELS: dict[Kind, float] = {
    "escalation": 1.0,
    "thumbs_down": 1.0,
    "thumbs_up": 0.0,
    "solved": 0.0,
}


@dataclass(frozen=True)
class LabelledExample:
    """One question with what the deployment learned about it.

    `needs_premium` is the label in [0, 1]; `weight` is how far it is trusted. Judge qualities
    are on a 0..1 scale (a 1-10 judge score s maps to (s - 1) / 9, see `judge_quality`).
    Costs are integer nano-dollars of one answer by each tier, when known. `retrieval` is the
    knowledge base's confidence for the question when it was searched (None: no knowledge base),
    on whatever scale `Retrieval.confidence` has (>= 0).
    """

    text: str
    context: tuple[str, ...] = ()
    kind: Kind = "shadow"
    needs_premium: float = 0.0
    weight: float = 1.0
    cheap_quality: float | None = None
    premium_quality: float | None = None
    cheap_cost_nano: int | None = None
    premium_cost_nano: int | None = None
    base_score: float | None = None
    retrieval: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown label kind {self.kind!r} (known: {', '.join(KINDS)})")
        for name in ("needs_premium", "cheap_quality", "premium_quality", "base_score"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        for name in ("weight", "retrieval"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("cheap_cost_nano", "premium_cost_nano"):
            cost = getattr(self, name)
            if cost is not None and cost < 0:
                raise ValueError(f"{name} must be >= 0, got {cost!r}")

    @property
    def judged(self) -> bool:
        return self.cheap_quality is not None and self.premium_quality is not None

    @property
    def qualities(self) -> tuple[float, float]:
        """(cheap, premium) answer quality: judged when known, else implied by the label."""
        if self.cheap_quality is not None and self.premium_quality is not None:
            return self.cheap_quality, self.premium_quality
        return 1.0 - self.needs_premium, 1.0


def judge_quality(score: float, scale: float = 10.0) -> float:
    """A 1..`scale` judge score as quality in [0, 1]."""
    return min(max((score - 1.0) / (scale - 1.0), 0.0), 1.0)


def example_from_signal(
    text: str,
    kind: Kind,
    context: tuple[str, ...] = (),
    weights: dict[Kind, float] | None = None,
    retrieval: float | None = None,
) -> LabelledExample:
    """A label from a user signal (escalation, 👍/👎, solved) with the default label and weight."""
    if kind == "shadow":
        raise ValueError("shadow comparisons carry judge scores: use example_from_comparison")
    weight = (weights or DEFAULT_WEIGHTS)[kind]
    return LabelledExample(text, context, kind, DEFAULT_LABELS[kind], weight, retrieval=retrieval)


def example_from_comparison(
    text: str,
    cheap_quality: float,
    premium_quality: float,
    *,
    context: tuple[str, ...] = (),
    full_gap: float = FULL_GAP,
    weight: float | None = None,
    cheap_cost_nano: int | None = None,
    premium_cost_nano: int | None = None,
    base_score: float | None = None,
    retrieval: float | None = None,
) -> LabelledExample:
    """A judged shadow comparison. The label grows with premium's lead: 0 when premium is no
    better, 1 from a lead of `full_gap` (default 3 points of a 1-10 judge). A graded label is
    less noisy than a cut: two fine answers often differ by a point or two."""
    needs = min(max((premium_quality - cheap_quality) / full_gap, 0.0), 1.0)
    return LabelledExample(
        text, context, "shadow", needs, DEFAULT_WEIGHTS["shadow"] if weight is None else weight,
        cheap_quality, premium_quality, cheap_cost_nano, premium_cost_nano, base_score, retrieval,
    )  # fmt: skip
