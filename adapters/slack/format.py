"""Slack text hygiene: model output must never notify anyone, and Slack markup is stripped."""

from __future__ import annotations

import re

# A word joiner after "@" keeps the text readable ("@channel") but Slack no longer sees a mention.
_JOIN = "\u2060"

# Slack's own markup for special and user/group mentions: <!here>, <!channel|@channel>,
# <!subteam^S123|@team>, <@U123>, <@W123|bob>. A label after "|" is what the user would see.
_SPECIAL = re.compile(r"<!(?P<name>[^>|]*)(?:\|(?P<label>[^>]*))?>")
_USER = re.compile(r"<@(?P<id>[^>|]*)(?:\|(?P<label>[^>]*))?>")
# Bare words Slack turns into broadcasts when link_names is on (and some clients always).
_BARE = re.compile(r"(?<![\w@])@(?=(channel|here|everyone)\b)", re.IGNORECASE)


def _special(match: re.Match[str]) -> str:
    name, label = match.group("name"), match.group("label")
    if name.startswith("subteam^"):
        shown = (label or name.removeprefix("subteam^")).lstrip("@")
    elif name.startswith("date"):
        return label or ""  # a harmless date token: keep its fallback text
    else:
        shown = (label or name).lstrip("@")
    return f"@{_JOIN}{shown}"


def _user(match: re.Match[str]) -> str:
    shown = (match.group("label") or match.group("id")).lstrip("@")
    return f"@{_JOIN}{shown}"


def neutralize_mentions(text: str) -> str:
    """Rewrite every mention form so posting `text` pings nobody, keeping it readable."""
    text = _SPECIAL.sub(_special, text)
    text = _USER.sub(_user, text)
    return _BARE.sub("@" + _JOIN, text)


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
