"""Text hygiene shared by the engine and every adapter: cleaning, neutralizing mentions,
trimming, and splitting."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FENCE = re.compile(r"^\s*(```|~~~)(.*)$")

# A word joiner after "@" keeps the text readable ("@channel") but no platform sees a mention.
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
    """Rewrite every mention form so posting `text` pings nobody, keeping it readable: Slack's
    markup, and Discord's (`<@id>`, `<@!id>` and `<@&role>` read as a user mention)."""
    text = _SPECIAL.sub(_special, text)
    text = _USER.sub(_user, text)
    return _BARE.sub("@" + _JOIN, text)


def clean_text(text: str) -> str:
    """Drop NUL and other control characters and lone surrogates; keep emoji, RTL, newlines."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text).strip()


def has_visible_text(text: str) -> bool:
    """False for text made only of spaces and invisible format characters (zero-width spaces
    and joiners, BOM, word joiners): nothing a model could answer."""
    return any(not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE for ch in text)


_INVISIBLE = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp"})


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def trim_text(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut `text` to `max_chars` at a line or word boundary; the bool says if anything was cut."""
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    boundary = max(cut.rfind("\n"), cut.rfind(" "))
    if boundary > max_chars * 0.8:
        cut = cut[:boundary]
    return cut.rstrip(), True


def split_message(text: str, max_chars: int) -> list[str]:
    """Split into parts of at most `max_chars`, preferring paragraph, line, then word breaks.

    A part that ends inside a code fence is closed with ``` and the next part reopens it with
    the same info string, so every part renders on its own.
    """
    if max_chars < 20:
        raise ValueError("max_chars too small to split safely")
    parts: list[str] = []
    rest = text
    open_fence: str | None = None  # the fence line (e.g. "```python") still open at a split
    while rest:
        prefix = (open_fence + "\n") if open_fence else ""
        budget = max_chars - len(prefix) - 4  # room to close a fence: "\n```"
        if len(prefix) + len(rest) <= max_chars:
            parts.append(prefix + rest)
            break
        cut = _cut_point(rest, budget)
        chunk, rest = rest[:cut].rstrip("\n"), rest[cut:].lstrip("\n")
        body = prefix + chunk
        open_fence = _fence_state(body)
        if open_fence:
            body += "\n```"
        parts.append(body)
    return [p for p in parts if p.strip()]


def _cut_point(text: str, budget: int) -> int:
    window = text[:budget]
    for separator in ("\n\n", "\n", " "):
        index = window.rfind(separator)
        if index > budget // 2:
            return index + len(separator)
    return budget


def _fence_state(text: str) -> str | None:
    """The opening fence line if `text` ends inside a code block, else None."""
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match:
            fence = None if fence else line.strip()
    return fence
