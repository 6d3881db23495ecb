"""The tutorial keyword heuristic, kept as the baseline the learned analyzer must beat."""

from __future__ import annotations

import re

from routing.tiers import Tier

_WORD = re.compile(r"[^\W_]+")
_CHEAP = frozenset({"hours", "price", "when", "where"})
_HARD = frozenset({"analyze", "debug", "troubleshoot"})
_SCORES: dict[Tier, float] = {"budget": 0.0, "balanced": 0.5, "premium": 1.0}


def keyword_tier(text: str) -> Tier:
    """Short question about hours/price/when/where: budget; long or debugging talk: premium."""
    words = _WORD.findall(text[:20_000].lower())
    vocabulary = set(words)
    if len(words) < 12 and vocabulary & _CHEAP:
        return "budget"
    if len(words) > 30 or vocabulary & _HARD:
        return "premium"
    return "balanced"


def keyword_score(text: str) -> float:
    return _SCORES[keyword_tier(text)]
