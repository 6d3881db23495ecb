"""Who may force a tier ("!premium", a tier command, "ask a stronger model") and up to which.

Admins may force any tier. Everyone else is held to TIER_FORCE_MAX and, unless
TIER_FORCE_ABOVE_CHANNEL is on, to the tier an admin pinned for the channel; the answer then
starts with one line saying which tier was used instead, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from routing.tiers import TIERS, Tier

ForceBy = Literal["everyone", "admins", "nobody"]


@dataclass(frozen=True)
class ForcedTier:
    tier: Tier | None  # the tier to force (None: route as usual)
    note: str = ""  # shown above the answer when the request was not honoured as asked
    reason: str = ""  # for the call row's routing reasons


@dataclass(frozen=True)
class TierPolicy:
    force_by: ForceBy = "everyone"
    force_max: Tier = "premium"
    above_channel: bool = False

    def apply(self, asked: Tier | None, channel_tier: Tier | None, admin: bool) -> ForcedTier:
        if asked is None or admin:
            return ForcedTier(asked)
        if self.force_by != "everyone":
            who = "nobody" if self.force_by == "nobody" else "only admins"
            return ForcedTier(
                None,
                f"_Here {who} can choose the model tier, so I picked one as usual._\n\n",
                f"{asked} asked, not allowed",
            )
        ceiling, why = self.force_max, f"{self.force_max} is the highest tier users can choose"
        if channel_tier and not self.above_channel and _rank(channel_tier) < _rank(ceiling):
            ceiling, why = channel_tier, f"an admin pinned this channel to {channel_tier}"
        if _rank(asked) <= _rank(ceiling):
            return ForcedTier(asked)
        return ForcedTier(
            ceiling,
            f"_Answered with the {ceiling} tier instead of {asked}: {why}._\n\n",
            f"{asked} asked, held to {ceiling} ({why})",
        )


def _rank(tier: Tier) -> int:
    return TIERS.index(tier)
