"""Builds what the model sees: the system prompt, a bounded history window, and the question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation.text import trim_text
from bot.llm.pricing import message_tokens
from bot.llm.types import ChatMessage
from routing.tiers import Tier, parse_tier
from storage.records import Turn

TRIM_NOTICE = (
    "_Note: your message was too long, so I only read the first {chars:,} characters._\n\n"
)
_PREFIX = re.compile(r"^!(\w+)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    text: str  # what the model is asked
    trimmed: bool  # the user should be told that we only read part of it
    forced_tier: Tier | None  # from a "!premium" style prefix


def parse_question(text: str, max_tokens: int) -> Question:
    """Strip a leading `!budget` / `!balanced` / `!premium` and trim to the token budget."""
    forced: Tier | None = None
    match = _PREFIX.match(text)
    if match and parse_tier(match.group(1)):
        forced = parse_tier(match.group(1))
        text = text[match.end() :]
    trimmed_text, trimmed = trim_text(text, max_tokens * 4)
    return Question(trimmed_text, trimmed, forced)


def history_window(turns: Sequence[Turn], token_budget: int) -> list[Turn]:
    """The newest turns whose estimated tokens fit `token_budget`, oldest first."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        cost = message_tokens(turn.text)
        if used + cost > token_budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    return kept


def build_messages(
    system_prompt: str, history: Sequence[Turn], question: str
) -> tuple[ChatMessage, ...]:
    return (
        ChatMessage("system", system_prompt),
        *(ChatMessage(t.role, t.text) for t in history),
        ChatMessage("user", question),
    )
