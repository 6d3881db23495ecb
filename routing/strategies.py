"""Routing strategies beyond `fixed`: tiered (local analyzer), tiered via Eden's @edenai router,
plain @edenai, and the tutorial's keyword heuristic (the baseline)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from routing.active import ScorerSlot
from routing.config import RoutingConfig
from routing.health import ModelHealth
from routing.keyword import keyword_tier
from routing.strategy import Decision, RouteRequest
from routing.tiers import Tier, cap_tier

EDEN_ROUTER = "@edenai"


@dataclass(frozen=True)
class TierChoice:
    tier: Tier
    score: float | None
    reasons: tuple[str, ...]
    router_version: int | None = None


def choose_tier(request: RouteRequest, judge: Callable[[RouteRequest], TierChoice]) -> TierChoice:
    """Apply the overrides around a strategy's own judgement: forced > channel default > judge,
    then the budget ceiling. A forced tier arrives already held to the tier policy (who may
    force, up to which tier, never above an admin's channel pin unless allowed)."""
    if request.forced_tier:
        reasons: tuple[str, ...] = (f"tier forced to {request.forced_tier}",)
        if request.force_note:
            reasons = (*reasons, request.force_note)
        choice = TierChoice(request.forced_tier, None, reasons)
    elif request.default_tier:
        choice = TierChoice(request.default_tier, None, ("channel default tier",))
    else:
        choice = judge(request)
    capped = cap_tier(choice.tier, request.ceiling_tier)
    if capped != choice.tier:
        reason = f"capped at {capped} by the budget guard"
        choice = TierChoice(capped, choice.score, (*choice.reasons, reason), choice.router_version)
    return choice


@dataclass(frozen=True)
class AnalyzerJudge:
    """The analyzer's score (the active router version's) picks the tier by the thresholds."""

    scorer: ScorerSlot
    config: RoutingConfig

    def __call__(self, request: RouteRequest) -> TierChoice:
        analysis, version = self.scorer.score(request.text, request.context, request.retrieval)
        tier = self.config.thresholds.tier_for(analysis.score)
        return TierChoice(tier, analysis.score, analysis.reasons, version)


def keyword_judge(request: RouteRequest) -> TierChoice:
    tier = keyword_tier(request.text)
    return TierChoice(tier, None, (f"keyword heuristic says {tier}",))


@dataclass(frozen=True)
class TieredStrategy:
    """Judge -> tier -> the tier's first healthy model, with the rest of the pool as fallbacks."""

    judge: Callable[[RouteRequest], TierChoice]
    config: RoutingConfig
    health: ModelHealth
    name: str = "tiered"

    def decide(self, request: RouteRequest) -> Decision:
        started = time.perf_counter_ns()
        choice = choose_tier(request, self.judge)
        return Decision(
            strategy=self.name,
            models=self.health.order(self.config.tiers[choice.tier]),
            tier=choice.tier,
            score=choice.score,
            reasons=choice.reasons,
            decision_us=(time.perf_counter_ns() - started) // 1000,
            router_version=choice.router_version,
        )


@dataclass(frozen=True)
class TieredEdenStrategy:
    """Judge -> tier -> Eden's @edenai router choosing among that tier's pool."""

    judge: Callable[[RouteRequest], TierChoice]
    config: RoutingConfig
    name: str = "tiered-edenai"

    def decide(self, request: RouteRequest) -> Decision:
        started = time.perf_counter_ns()
        choice = choose_tier(request, self.judge)
        return Decision(
            strategy=self.name,
            models=(EDEN_ROUTER,),
            tier=choice.tier,
            score=choice.score,
            reasons=(*choice.reasons, "Eden's router picks within the tier"),
            extra_body={"router_candidates": list(self.config.tiers[choice.tier])},
            decision_us=(time.perf_counter_ns() - started) // 1000,
            router_version=choice.router_version,
        )


@dataclass(frozen=True)
class EdenStrategy:
    """Plain @edenai over one candidate list: Eden decides everything."""

    candidates: tuple[str, ...]
    name: str = "edenai"

    def decide(self, request: RouteRequest) -> Decision:
        return Decision(
            strategy=self.name,
            models=(EDEN_ROUTER,),
            reasons=("Eden's router picks the model",),
            extra_body={"router_candidates": list(self.candidates)},
        )
