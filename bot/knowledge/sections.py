"""A page's sections (text under one heading path) and their cutting into passages of a size a
prompt can hold, split at paragraph, then line, then sentence boundaries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from storage.knowledge_records import Passage

PASSAGE_CHARS = 1200  # ~300 tokens: a few passages fit any model's context with room to answer
# A section shorter than this is joined with the sections after it under the same heading:
# a one-line section ranks too well on its heading alone and tells a model too little.
SMALL_CHARS = 400
SEPARATOR = " › "
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Section:
    headings: tuple[str, ...]  # the heading path below the page's title
    anchor: str  # the heading's id in the page ("" for the text before the first heading)
    text: str


class Outline:
    """A page's sections as its headings open them: each heading ends the section before it
    and starts one whose path is the headings above it plus its own."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.first_h1 = ""
        self._stack: list[tuple[int, str]] = []
        self._anchor = ""

    def heading(self, level: int, text: str, anchor: str, text_before: str) -> None:
        self.end(text_before)
        if level == 1 and not self.first_h1:
            self.first_h1 = text
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        if text:
            self._stack.append((level, text))
        self._anchor = anchor

    def end(self, text: str) -> None:
        headings = tuple(heading for _, heading in self._stack)
        self.sections.append(Section(headings, self._anchor, text))


def heading_path(title: str, headings: tuple[str, ...]) -> str:
    """The page's title, then the headings down to a passage ("Billing › Change your VAT ID")."""
    return SEPARATOR.join(part for part in (title, *headings) if part)


def tidy(text: str) -> str:
    """Trailing spaces gone, runs of blank lines made one."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def cut(
    sections: list[Section], limit: int = PASSAGE_CHARS, small: int = SMALL_CHARS
) -> tuple[Passage, ...]:
    """Each section's text in passages of at most ~`limit` characters; empty sections dropped,
    small ones joined (see SMALL_CHARS)."""
    found: list[Passage] = []
    for section in _joined(sections, limit, small):
        for piece in _pieces(section.text, limit):
            found.append(Passage(len(found), section.headings, section.anchor, piece))
    return tuple(found)


def _joined(sections: list[Section], limit: int, small: int) -> list[Section]:
    """Runs of small sections under one heading as one section: its heading path is what they
    share, and the headings below it become lines of its text."""
    joined: list[Section] = []
    for section in sections:
        text = tidy(section.text)
        if not _has_words(text):
            continue
        last = joined[-1] if joined else None
        if last is not None and len(last.text) < small:
            shared = _shared(last.headings, section.headings)
            text_with = "\n".join((*section.headings[len(shared) :], text))
            if (
                shared
                and len(shared) >= len(last.headings) - 1
                and len(last.text) + len(text_with) + 2 <= limit
            ):
                last_text = "\n".join((*last.headings[len(shared) :], last.text))
                joined[-1] = Section(shared, last.anchor, f"{last_text}\n\n{text_with}")
                continue
        joined.append(Section(section.headings, section.anchor, text))
    return joined


def _shared(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _has_words(text: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def _pieces(text: str, limit: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    units = [unit for paragraph in text.split("\n\n") for unit in _split(paragraph, limit)]
    return [piece for piece in _pack(units, limit, "\n\n") if _has_words(piece)]


def _split(paragraph: str, limit: int) -> list[str]:
    """A paragraph longer than `limit` in lines, then sentences, then hard cuts."""
    if len(paragraph) <= limit:
        return [paragraph]
    for pattern in ("\n", _SENTENCE_END):
        parts = paragraph.split(pattern) if isinstance(pattern, str) else pattern.split(paragraph)
        if len(parts) > 1:
            joiner = pattern if isinstance(pattern, str) else " "
            return _pack(parts, limit, joiner)
    return [paragraph[i : i + limit] for i in range(0, len(paragraph), limit)]


def _pack(parts: list[str], limit: int, joiner: str) -> list[str]:
    packed: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current}{joiner}{part}" if current else part
        if len(joined) <= limit:
            current = joined
            continue
        if current:
            packed.append(current)
        current = part
        while len(current) > limit:
            cut_at = current.rfind(" ", 0, limit)
            cut_at = cut_at if cut_at > limit // 2 else limit
            packed.append(current[:cut_at])
            current = current[cut_at:].lstrip()
    if current:
        packed.append(current)
    return packed
