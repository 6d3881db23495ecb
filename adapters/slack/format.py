"""Slack text hygiene: model output must never notify anyone (`neutralize_mentions`, shared
with the core), and Slack markup is stripped."""

from __future__ import annotations

import re

from bot.conversation.text import neutralize_mentions

__all__ = ["link", "neutralize_mentions", "safe_prefix_length", "strip_bot_mention"]


def safe_prefix_length(text: str) -> int:
    """How much of a still-growing `text` can be neutralized and shown without changing later.

    A mention may be cut in two by the stream ("<!chan" + "nel>"); hold back the last word and
    any unclosed "<...".
    """
    end = max(text.rfind(" "), text.rfind("\n")) + 1
    opened = text.rfind("<", 0, end)
    if opened != -1 and text.find(">", opened, end) == -1:
        end = opened
    return end


def strip_bot_mention(text: str, bot_user_id: str | None) -> str:
    """The question without the "@bot" that addressed it."""
    if not bot_user_id:
        return text
    return re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text).strip()


def link(url: str | None, label: str) -> str:
    """A Slack mrkdwn link `<url|label>` (plain text without a URL), pinging nobody."""
    shown = neutralize_mentions(label).replace("&", "&amp;").replace("<", "&lt;")
    shown = shown.replace(">", "&gt;").replace("|", "¦")
    if not url:
        return shown
    return f"<{url.replace('|', '%7C').replace('>', '%3E').replace('<', '%3C')}|{shown}>"
