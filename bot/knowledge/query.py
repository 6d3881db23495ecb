"""A question as the search sees it: its content words (stop words out), each a group of
alternatives that count as the same thing (the word, a spelling correction, synonyms)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache

from bot.knowledge.synonyms import synonym_table
from storage.knowledge_stemming import stem
from storage.knowledge_words import STOP_WORDS, words


@dataclass(frozen=True)
class Group:
    """One thing the question asks about: `alternatives[0]` is what the user wrote."""

    alternatives: tuple[str, ...]
    documents: int = 0  # how many documents use it (its most used alternative); 0: none

    @property
    def word(self) -> str:
        return self.alternatives[0]

    @property
    def stems(self) -> tuple[tuple[str, ...], ...]:
        """Each alternative as the stems of its words."""
        return tuple(tuple(stem(w) for w in words(a)) for a in self.alternatives)

    def idf(self, total: int) -> float:
        """Rarer words say more; a word no document uses says most (its absence counts)."""
        return math.log(1 + total / (1 + self.documents))

    def with_alternatives(self, *more: str) -> Group:
        return replace(self, alternatives=tuple(dict.fromkeys((*self.alternatives, *more))))


def analyze(text: str, *, synonyms: bool = True, stop_words: bool = True) -> tuple[Group, ...]:
    """The question's groups, in order, each once. Phrases a synonym group knows ("log in",
    "get rid of") are one group even when made of stop words; other stop words go, unless the
    question has nothing else."""
    tokens = words(text)
    table = _table() if synonyms else {}
    groups: list[Group] = []
    i = 0
    while i < len(tokens):
        for size in (3, 2, 1):
            phrase = tuple(tokens[i : i + size])
            if len(phrase) == size and (size == 1 or phrase in table):
                break
        if size > 1 or not stop_words or tokens[i] not in STOP_WORDS:
            alternatives = [" ".join(phrase)]
            if synonyms:
                key = phrase if phrase in table else tuple(stem(w) for w in phrase)
                alternatives += [" ".join(m) for m in table.get(key, ())]
            groups.append(Group(tuple(alternatives)))
        i += size
    if not groups:
        groups = [Group((w,)) for w in tokens]
    unique: dict[tuple[str, ...], Group] = {}
    for group in groups:  # "follow" and "follows" are one thing
        unique.setdefault(group.stems[0], group)
    return tuple(unique.values())


@cache
def _table() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The synonym table, looked up by exact words and by the stem of single words."""
    table = synonym_table()
    by_stem: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
        (stem(k[0]),): v for k, v in table.items() if len(k) == 1
    }
    return {**by_stem, **table}
