"""Word keys for what a deployment learns from its questions: hashed stems and stem pairs.

Paraphrases of one support question share stems more often than exact words ("arrived" /
"arriving" / "arrives"), so the learned correction works on crude suffix-stripped stems. Pure
Python, cached per word like the analyzer's own buckets.
"""

from __future__ import annotations

import operator
import zlib
from collections.abc import Sequence
from functools import lru_cache

from routing.analyzer.features import clean, tokens

KEY_BITS = 20
# The question shows in its opening words; a pasted log after them would only add noise (and cost).
KEY_WORDS = 32
_MASK = (1 << KEY_BITS) - 1
_SUFFIXES = ("ing", "ed", "es", "ly", "s", "e")


def stem(word: str) -> str:
    """Strip one common English suffix, keeping at least three letters."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1 << 16)
def _word_key(word: str) -> tuple[int, int]:
    """(unigram key, left-hand pair mix) of a word's stem; a pair key is left(a) ^ unigram(b)."""
    h = zlib.crc32(stem(word).encode("utf-8"))
    return h & _MASK, ((h * 0x9E3779B1) ^ 0x7F4A7C15) & _MASK


def text_keys(text: str) -> tuple[int, ...]:
    """Distinct stem and adjacent-stem-pair keys of a message's first `KEY_WORDS` words."""
    return token_keys(tokens(clean(text)))


def token_keys(words: Sequence[str]) -> tuple[int, ...]:
    """`text_keys` from the analyzer's word tokens (the same tokenizer: no second pass)."""
    words = words[:KEY_WORDS]
    if not words:
        return ()
    uni, left = zip(*map(_word_key, words), strict=True)
    found = set(uni)
    found.update(map(operator.xor, left[:-1], uni[1:]))
    return tuple(found)


def split_key(text: str) -> str:
    """What decides a question's side of the tuning split: its sorted distinct stems.

    Copies that differ only in case, punctuation, word order or inflection share a key, so a
    question asked twice cannot sit on both sides.
    """
    return " ".join(sorted({stem(word) for word in tokens(clean(text))}))
