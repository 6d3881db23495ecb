"""Impact-ordered postings: for each word a passage uses, how strongly it uses it.

A search reads, for each of a question's terms, only the passages that use it most (an index on
(collection, term, weight)), so its cost does not grow with the knowledge base. The weight is
the term's BM25F frequency in the passage, saturated: for one term the order of two passages
under BM25 does not depend on the term's idf, so it can be fixed when the passage is written.
Title and heading matches count `TITLE` and `HEADINGS` times a body match; a body's count is
normalised by its length against `AVERAGE_TERMS`, a typical passage's (the chunker cuts at 400
to 1,200 characters: 65 to 200 words, 40 to 120 of them not stop words), not the knowledge
base's own average, so that no weight changes when other documents are added. Stop words have
no postings: a question never searches for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from storage.knowledge_stemming import stem
from storage.knowledge_words import STOP_WORDS, words

K1 = 2.0
B = 0.5
TITLE = 4.0
HEADINGS = 2.0
AVERAGE_TERMS = 80
SCALE = 10_000  # weights are stored as integers: (K1 + 1) * SCALE fits a SMALLINT
MAX_TERM = 40  # longer "words" are hashes, keys and data


def terms(text: str) -> list[str]:
    """The stems of `text`'s words that have postings, in order, with repeats."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) <= MAX_TERM]


def postings(title: Sequence[str], headings: Iterable[str], body: Sequence[str]) -> dict[str, int]:
    """term -> weight for one passage, from the terms (`terms`) of its page's title, its
    heading path and its body."""
    in_title = Counter(title)
    in_headings = Counter(t for heading in headings for t in terms(heading))
    in_body = Counter(body)
    norm = 1 - B + B * len(body) / AVERAGE_TERMS
    weights = {}
    for term in in_title.keys() | in_headings.keys() | in_body.keys():
        tf = TITLE * in_title[term] + HEADINGS * in_headings[term] + in_body[term] / norm
        weights[term] = round(SCALE * tf * (K1 + 1) / (tf + K1))
    return weights
