"""Routing tiers, from cheapest to strongest."""

from __future__ import annotations

from typing import Literal

Tier = Literal["budget", "balanced", "premium"]
TIERS: tuple[Tier, ...] = ("budget", "balanced", "premium")


def parse_tier(value: str) -> Tier | None:
    """`"Premium "` -> "premium"; anything that is not a tier -> None."""
    cleaned = value.strip().lower()
    for tier in TIERS:
        if tier == cleaned:
            return tier
    return None


def tier_above(tier: Tier | None) -> Tier:
    """One tier stronger (premium stays premium); no tier yet counts as balanced."""
    if tier is None:
        return "premium"
    return TIERS[min(TIERS.index(tier) + 1, len(TIERS) - 1)]


def cap_tier(tier: Tier, ceiling: Tier | None) -> Tier:
    """The weaker of `tier` and `ceiling`."""
    if ceiling is None:
        return tier
    return TIERS[min(TIERS.index(tier), TIERS.index(ceiling))]
