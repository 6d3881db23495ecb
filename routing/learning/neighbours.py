"""Which judged questions a new message resembles: an inverted index over hashed word stems,
stem pairs and character trigrams, scored by IDF-weighted cosine similarity. Pure Python.

Paraphrases of one support question share few exact words but many word pieces ("refund" /
"refunded" / "refunding"; "vaccinations" / "vaccines"), so each word also contributes its
character trigrams (inside the word, padded: "<ca", "car", "ard", "rd>"). Measured choices
(docs/routing.md): trigrams beat 4-grams, 3+4-grams and words alone on the support replay.

Cost: the postings of the query's rarest features are read first, up to `POSTING_BUDGET`
postings; common features, which say least about a question, are skipped beyond it. Features in
more than `MAX_DF` of the questions are dropped (also from the norms). A memory of 10,000
questions is a few MB: one offsets array over the hash space and one array of question ids
(compressed sparse rows), no per-question Python objects.
"""

from __future__ import annotations

import itertools
import math
import operator
import zlib
from array import array
from collections.abc import Sequence
from functools import lru_cache

from routing.analyzer.features import clean, tokens
from routing.learning.keys import stem

FEATURE_BITS = 19
_MASK = (1 << FEATURE_BITS) - 1
# The question shows in its opening words; a pasted log after them would only add cost. 20
# words and 32 rank the support replay alike (gain ratio 0.827 / 0.828, seeds 100-111); long
# prompts, the decision's p99, read a third fewer features.
WORDS = 20
MAX_DF = 0.5
# For the decision's p99 < 1 ms at 10,000 judged questions (450: 0.86-1.03 ms; 300: 0.83-0.97,
# docs/benchmarks.md), at a price in accuracy measured in docs/routing.md (banking77, 300
# labels: gain ratio 0.862 at 600, 0.858 at 450, 0.843 at 300).
POSTING_BUDGET = 300
# The postings' offsets are stored per block of 2**BLOCK_BITS hash buckets (`_two_level`).
BLOCK_BITS = 8


# Bounded: a memory's vocabulary passes through once at load; the hot words stay.
@lru_cache(maxsize=1 << 13)
def _word(word: str) -> array[int]:
    """One word's stem and trigram features, then the left and right halves of its stem-pair
    feature, in one array: ~100 bytes a cached word, where a tuple of int objects took ~400
    (the cache is full of a memory's vocabulary once it is loaded: docs/benchmarks.md)."""
    root = stem(word)
    h = zlib.crc32(b"w" + root.encode("utf-8", "replace"))
    padded = f"<{word}>".encode("utf-8", "replace")
    grams = {zlib.crc32(b"c" + padded[i : i + 3]) & _MASK for i in range(len(padded) - 2)}
    grams.add(h & _MASK)
    return array("I", [*grams, (h * 0x9E3779B1) & _MASK, ((h >> 7) ^ 0x2545F491) & _MASK])


def features_of(words: Sequence[str]) -> frozenset[int]:
    """Distinct features of the first `WORDS` word tokens (the analyzer's own tokens)."""
    found: set[int] = set()
    lefts, rights = [], []
    for word in words[:WORDS]:
        packed = _word(word)
        found.update(packed[:-2])
        lefts.append(packed[-2])
        rights.append(packed[-1])
    found.update(map(operator.xor, lefts[:-1], rights[1:]))
    return frozenset(found)


def normalised(text: str) -> str:
    """What the index keeps of a question: its first `WORDS` word tokens, lower-cased."""
    return " ".join(tokens(clean(text))[:WORDS])


class NeighbourIndex:
    """An immutable index of questions; `nearest` returns (cosine, question position)."""

    def __init__(self, texts: Sequence[str], max_df: float = MAX_DF) -> None:
        n = len(texts)
        # A hash space sized to the memory: a few questions need not pay for 2**19 buckets.
        bits = min(FEATURE_BITS, max(12, (n * 256).bit_length()))
        self._mask = mask = (1 << bits) - 1
        # Compact while building: every question's features in one flat array (10,000 small
        # arrays or frozensets would leave the allocator's arenas fragmented after the build).
        flat, bounds = array("I"), array("I", [0])
        for text in texts:
            flat.extend({f & mask for f in features_of(text.split())})
            bounds.append(len(flat))
        # Document frequencies in an array, not a dict: 10,000 questions have ~150,000 distinct
        # features, whose int objects would stay in the allocator's arenas (RSS) after the build.
        # Arrays are made by repetition, not from a zeroed `bytes` (a second copy of each).
        counts = array("H" if n <= 0xFFFF else "I", [0]) * (mask + 1)
        for f in flat:
            counts[f] += 1
        limit = max(2, int(max_df * n))
        # The commonest features are dropped before the postings are laid out, and left out of
        # the norms on both sides; a feature no question has counts as unseen (it lowers every
        # similarity of that query equally).
        self._dropped = frozenset(
            itertools.compress(range(len(counts)), map(limit.__lt__, counts))
        )
        for f in self._dropped:
            counts[f] = 0
        # offsets[f]: where feature f's postings start; built as each feature's end, then used
        # as its fill cursor (which moves it back to its start): no second array of cursors.
        offsets = array("I", itertools.accumulate(counts))
        offsets.append(offsets[-1])
        # Question positions fit two bytes up to 65,535 questions: half the largest array.
        code = "H" if n <= 0xFFFF else "I"
        postings = array(code, [0]) * offsets[-1]
        log_n = math.log(n + 1.0)
        # A feature's squared IDF (its share of a cosine's dot product), by document frequency.
        self._weight = array("d", ((log_n - math.log(df + 0.5)) ** 2 for df in range(n + 1)))
        self._unseen = (log_n - math.log(0.5)) ** 2
        inverse = array("d", [0.0]) * n
        for position in range(n - 1, -1, -1):  # backwards, so each feature's run ends sorted
            mass = 0.0
            for f in flat[bounds[position] : bounds[position + 1]]:
                df = counts[f]
                if df:
                    offsets[f] -= 1
                    postings[offsets[f]] = position
                    mass += self._weight[df]
            inverse[position] = 1.0 / math.sqrt(mass) if mass else 0.0
        del flat, counts
        self._blocks, self._within = _two_level(offsets)
        self._postings, self._inverse = postings, inverse
        self.size = n

    def nearest(
        self, words: Sequence[str], k: int, budget: int = POSTING_BUDGET
    ) -> list[tuple[float, int]]:
        """Up to `k` most similar questions, most similar first."""
        blocks, within, postings = self._blocks, self._within, self._postings
        mask, weights = self._mask, self._weight
        mass = 0.0
        found = []
        for f in {f & mask for f in features_of(words)}:
            start = blocks[f >> BLOCK_BITS] + within[f]
            g = f + 1
            df = blocks[g >> BLOCK_BITS] + within[g] - start
            if df:
                weight = weights[df]
                mass += weight
                found.append((df, start, weight))
            elif f not in self._dropped:
                mass += self._unseen
        if not found:
            return []
        found.sort(key=operator.itemgetter(0))
        scores: dict[int, float] = {}
        get = scores.get
        spent = 0
        for df, start, weight in found:
            spent += df
            if spent > budget and scores:
                break
            for position in postings[start : start + df]:
                scores[position] = get(position, 0.0) + weight
        scale = 1.0 / math.sqrt(mass)
        positions = list(scores)
        inverse = map(self._inverse.__getitem__, positions)
        cosines = list(map(operator.mul, scores.values(), inverse))
        if len(cosines) > k:  # the k best, with C-level steps only (heapq's loop is Python)
            cut = sorted(cosines)[-k]
            keep = list(map(cut.__le__, cosines))
            positions = list(itertools.compress(positions, keep))
            cosines = list(itertools.compress(cosines, keep))
        top = sorted(zip(cosines, positions, strict=True), reverse=True)[:k]
        return [(cosine * scale, position) for cosine, position in top]


def _two_level(offsets: array[int]) -> tuple[array[int], array[int]]:
    """`offsets` as a start per block of 2**BLOCK_BITS buckets plus each bucket's offset inside
    its block, two bytes when every block's postings fit: offsets[f] is
    blocks[f >> BLOCK_BITS] + within[f]. Half of the 2 MB a 2**19-bucket memory's offsets took."""
    size = 1 << BLOCK_BITS
    blocks = offsets[::size]
    spans = [offsets[min(i + size, len(offsets)) - 1] - base for i, base in zip(
        range(0, len(offsets), size), blocks, strict=True)]
    within = array("H" if max(spans) <= 0xFFFF else "I", [0]) * len(offsets)
    for i, base in zip(range(0, len(offsets), size), blocks, strict=True):
        part = offsets[i : i + size]
        within[i : i + len(part)] = array(within.typecode, map(operator.sub, part,
                                                               itertools.repeat(base)))
    return blocks, within
