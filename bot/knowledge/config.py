"""The knowledge base's settings for answering, parsed once (no heavy imports: the settings
class uses the parsers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# The files the knowledge base reads, by suffix (the folder reader lists them without loading
# the parsers).
MARKDOWN = frozenset({".md", ".markdown", ".mdx", ".mdown"})
HTML = frozenset({".html", ".htm"})
TEXT = frozenset({".txt", ".text", ".rst"})
SUFFIXES = MARKDOWN | HTML | TEXT

DEFAULT_COLLECTION = "default"
# Solved threads an admin approved (bot.learning.solved): a channel not listed in
# KB_CHANNEL_COLLECTIONS draws on them with the default collection; a listed one names it.
SOLVED_COLLECTION = "solved"
DEFAULT_COLLECTIONS = (DEFAULT_COLLECTION, SOLVED_COLLECTION)
COLLECTION = re.compile(r"^[A-Za-z0-9][\w.-]{0,127}$")
_MENTIONS = {"slack": re.compile(r"^S[A-Z0-9]{2,}$"), "discord": re.compile(r"^\d{5,25}$")}


@dataclass(frozen=True)
class KnowledgeConfig:
    passages: int = 4  # how many passages go into the prompt
    min_confidence: float = 0.30  # calibrated on the labelled sets (docs/knowledge.md)
    answer_without_sources: bool = True  # below it: answer anyway (else hand off)
    channel_collections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def collections(self, channel: str) -> tuple[str, ...]:
        return self.channel_collections.get(channel, DEFAULT_COLLECTIONS)


def channel_collections(value: str) -> dict[str, tuple[str, ...]]:
    """`C0123ABC=billing|general, 112233445566=docs` -> {channel: (collection, ...)}."""
    found: dict[str, tuple[str, ...]] = {}
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        channel, _, names = entry.partition("=")
        collections = tuple(n.strip() for n in names.split("|") if n.strip())
        if not channel.strip() or not collections or not all(map(COLLECTION.match, collections)):
            raise ValueError(
                f"{entry!r}: expected CHANNEL_ID=COLLECTION[|COLLECTION], comma-separated, "
                "e.g. C0123ABC=billing|default"
            )
        found[channel.strip()] = collections
    return found


def handoff_mentions(value: str) -> dict[str, str]:
    """`slack:S0123ABCD, discord:112233445566778899` -> {platform: user group or role id}."""
    found: dict[str, str] = {}
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        platform, _, ident = entry.partition(":")
        pattern = _MENTIONS.get(platform.strip().lower())
        if pattern is None or not pattern.match(ident.strip()):
            raise ValueError(
                f"{entry!r}: expected slack:USER_GROUP_ID (S...) or discord:ROLE_ID (digits), "
                "comma-separated"
            )
        found[platform.strip().lower()] = ident.strip()
    return found
