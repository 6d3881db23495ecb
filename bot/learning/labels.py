"""The deployment's own labels, read back from what it stored: judged shadow comparisons, and
user signals (escalations, 👎, 👍, "Solved") on answers from a cheaper tier.

A signal on a premium answer says nothing about whether a cheaper tier would have done: those
are left out. Weights (how far each kind is trusted) are settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.settings import Settings
from routing.learning.examples import (
    Kind,
    LabelledExample,
    example_from_comparison,
    example_from_signal,
    judge_quality,
)
from storage.learning import Comparison, LearningData

CHEAPER = ("budget", "balanced")


@dataclass(frozen=True)
class LabelWeights:
    shadow: float = 1.0
    escalation: float = 0.8
    thumbs_down: float = 0.3
    thumbs_up: float = 0.3
    solved: float = 0.3

    @classmethod
    def from_settings(cls, settings: Settings) -> LabelWeights:
        return cls(
            settings.label_weight_shadow,
            settings.label_weight_escalation,
            settings.label_weight_thumbs_down,
            settings.label_weight_thumbs_up,
            settings.label_weight_solved,
        )

    def by_kind(self) -> dict[Kind, float]:
        return {
            "shadow": self.shadow,
            "escalation": self.escalation,
            "thumbs_down": self.thumbs_down,
            "thumbs_up": self.thumbs_up,
            "solved": self.solved,
        }


def comparison_example(
    comparison: Comparison, weight: float, retrieval: float | None = None
) -> LabelledExample | None:
    """A judged cheaper-vs-premium comparison as a label; None when it is not one. `retrieval`:
    the knowledge base's confidence for its question, when it was searched."""
    if comparison.answered_score is None or comparison.shadow_score is None:
        return None
    answered = judge_quality(comparison.answered_score)
    shadow = judge_quality(comparison.shadow_score)
    if comparison.shadow_tier == "premium" and comparison.answered_tier in CHEAPER:
        cheap, premium = answered, shadow
        costs = (comparison.answered_cost_nano_usd, comparison.shadow_cost_nano_usd)
    elif comparison.answered_tier == "premium" and comparison.shadow_tier in CHEAPER:
        cheap, premium = shadow, answered
        costs = (comparison.shadow_cost_nano_usd, comparison.answered_cost_nano_usd)
    else:
        return None
    return example_from_comparison(
        comparison.question,
        cheap,
        premium,
        context=comparison.context,
        weight=weight,
        cheap_cost_nano=costs[0],
        premium_cost_nano=costs[1],
        base_score=comparison.router_score,
        retrieval=retrieval,
    )


async def collect(
    store: LearningData, weights: LabelWeights, *, since: datetime | None = None
) -> list[LabelledExample]:
    """Every usable label since `since`: comparisons first, then signals on cheaper answers,
    each with its question's retrieval confidence when the knowledge base was searched."""
    found: list[LabelledExample] = []
    comparisons = await store.comparisons(since=since)
    by_kind = weights.by_kind()
    signals = [s for s in await store.signals(since=since)
               if s.tier in CHEAPER and by_kind.get(s.kind, 0.0) > 0]  # type: ignore[call-overload]  # fmt: skip
    retrievals = await store.retrievals(
        [c.message_id for c in comparisons] + [s.message_id for s in signals]
    )
    for comparison in comparisons:
        example = comparison_example(
            comparison, weights.shadow, retrievals.get(comparison.message_id)
        )
        if example is not None:
            found.append(example)
    for signal in signals:
        context = await store.earlier_questions(signal.thread_id, signal.message_id)
        kind: Kind = signal.kind  # type: ignore[assignment]
        found.append(example_from_signal(signal.question, kind, tuple(context), by_kind,
                                         retrievals.get(signal.message_id)))  # fmt: skip
    return found
