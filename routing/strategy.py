"""The routing-strategy port and the `fixed` strategy: the baseline the others are measured by."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from routing.tiers import Tier


@dataclass(frozen=True)
class RouteRequest:
    """What a strategy may look at when it picks a model."""

    text: str
    context: tuple[str, ...] = ()  # earlier user messages of the thread, oldest first
    forced_tier: Tier | None = None  # "!premium" or an escalation: use exactly this tier
    default_tier: Tier | None = None  # the channel's default tier, when an admin set one
    ceiling_tier: Tier | None = None  # the strongest tier allowed (the budget guard lowers it)
    force_note: str = ""  # why a forced tier was lowered (the tier policy), for the reasons
    # The knowledge base's confidence for the question (None: no knowledge base searched); a
    # tuned router weighs it as it learned from the deployment's labels.
    retrieval: float | None = None


@dataclass(frozen=True)
class Decision:
    """Which model(s) to ask, in order (first asked, the rest fallbacks), and why."""

    strategy: str
    models: tuple[str, ...]
    tier: Tier | None = None
    score: float | None = None
    reasons: tuple[str, ...] = ()
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    decision_us: int = 0
    router_version: int | None = None  # the tuned router that scored it (None: the shipped one)


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    def decide(self, request: RouteRequest) -> Decision: ...


@dataclass(frozen=True)
class FixedStrategy:
    """Always the same model."""

    model: str
    name: str = "fixed"

    def decide(self, request: RouteRequest) -> Decision:
        started = time.perf_counter_ns()
        return Decision(
            strategy=self.name,
            models=(self.model,),
            reasons=("fixed model",),
            decision_us=(time.perf_counter_ns() - started) // 1000,
        )
