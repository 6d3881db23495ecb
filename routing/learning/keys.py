"""Word stems: what makes two wordings of a question the same question for the learning loop.

Paraphrases of one support question share stems more often than exact words ("arrived" /
"arriving" / "arrives"), so the memory's word features and the near-duplicate groups of the
guard work on crude suffix-stripped stems. Pure Python.
"""

from __future__ import annotations

from routing.analyzer.features import clean, tokens

_SUFFIXES = ("ing", "ed", "es", "ly", "s", "e")


def stem(word: str) -> str:
    """Strip one common English suffix, keeping at least three letters."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def split_key(text: str) -> str:
    """Its sorted distinct stems: copies of a question that differ only in case, punctuation,
    word order or inflection share this key, so they always land in one fold."""
    return " ".join(sorted({stem(word) for word in tokens(clean(text))}))
