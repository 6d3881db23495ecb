"""Ordering matched passages and judging how well they answer.

The index (FTS5 bm25, PostgreSQL ts_rank_cd) chooses the candidates; they are ordered here by
BM25F over the question's groups rather than its words, so a word's synonyms and spelling
corrections count as that one word (a passage that says "limit", "maximum" and "max" is not
three times as relevant), matches in the title and heading path count more than in the body,
and the same formula ranks on both databases. A page's other matching passages lift its best
one a little (a page about the question tends to mention it in several places), at most
`per_page` passages of a page are kept, and the same text on several pages is shown once.

Confidence, in 0..1: how strongly the best passage matches the question, its BM25F score over
the score of a passage whose title holds every word of the question once (1.0 when it scores
at least that). Rarer words weigh more (idf), so does a word in a title or heading, or used
often, and a word no document uses weighs most (its absence counts). A question the documents
don't answer tends to find only a passage that mentions its words in passing, once each in a
long text; whether a passage merely contains the words (`coverage`, the share of their idf,
the confidence before) separates the two less well (docs/knowledge.md, "Quality").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, repeat
from typing import Literal

from bot.knowledge.query import Group
from storage.knowledge_records import Match
from storage.knowledge_search import Weights
from storage.knowledge_stemming import stem
from storage.knowledge_words import words


@dataclass(frozen=True)
class Ranking:
    """How the candidates are ordered (the bench compares settings; these are the shipped)."""

    rerank: bool = True  # BM25F over groups; False: the index's own order
    k1: float = 2.0
    b: float = 0.5  # less than bm25's usual 0.75: short reference entries rank too well
    page_boost: float = 0.25  # share of a page's second-best passage added to its best
    per_page: int = 2  # at most this many passages of one page in the results
    # "coverage": the share of the words (idf) the best passage contains, the confidence before
    # (the bench compares them)
    confidence: Literal["strength", "coverage"] = "strength"


@dataclass(frozen=True)
class Scored:
    match: Match
    score: float
    coverage: float  # share of the question's weight found in the passage
    strength: float = 0.0  # its BM25F score over a title holding every word once, at most 1


def rank(
    matches: Sequence[Match],
    groups: Sequence[Group],
    total: int,
    ranking: Ranking = Ranking(),
    weights: Weights = Weights(),  # noqa: B008 (frozen)
) -> tuple[list[Scored], float]:
    """(the passages, best first, with duplicates and a page's extra passages left out; the
    confidence that they answer the question)."""
    if not matches or not groups:
        return [], 0.0
    idf = [g.idf(max(total, 1)) for g in groups]
    whole = sum(idf) or 1.0
    # Each word once in the title: the score of a passage that is plainly about the question.
    reference = whole * weights.title * (ranking.k1 + 1) / (weights.title + ranking.k1) or 1.0
    plans = [_plan(g.stems) for g in groups]
    needed = frozenset(s for singles, phrases in plans for s in (*singles, *chain(*phrases)))
    # A title's and a heading path's weighted count of each group, once per search (a page's
    # passages share them; their word counts once per process: `_field`).
    titles: dict[int, list[float]] = {}
    heads_of: dict[tuple[str, ...], list[float]] = {}
    bodies = [m.stems.split() or [stem(w) for w in words(m.text)] for m in matches]
    average = sum(map(len, bodies)) / len(bodies) or 1.0
    k1, scale = ranking.k1, ranking.k1 + 1
    scored: list[Scored] = []
    for match, tokens in zip(matches, bodies, strict=True):
        title = titles.get(match.document_id)
        if title is None:
            counts = _field(match.title)
            title = titles[match.document_id] = [weights.title * _count(p, counts) for p in plans]
        heads = heads_of.get(match.headings)
        if heads is None:
            counts = _field(" ".join(match.headings))
            heads = heads_of[match.headings] = [weights.headings * _count(p, counts) for p in plans]
        # Only the question's words are counted in the body (a C-level filter, no Counter of
        # every word); its length is all its words.
        body = Counter(filter(needed.__contains__, tokens))
        norm = 1 - ranking.b + ranking.b * len(tokens) / average
        score = found = 0.0
        for g, plan in enumerate(plans):
            tf = title[g] + heads[g] + weights.body * _count(plan, body) / norm
            if tf:
                found += idf[g]
                score += idf[g] * tf * scale / (tf + k1)
        strength = min(1.0, score / reference)
        scored.append(
            Scored(match, score if ranking.rerank else match.score, found / whole, strength)
        )
    results = _by_page(scored, ranking)
    if not results:
        return results, 0.0
    best = results[0]
    return results, best.coverage if ranking.confidence == "coverage" else best.strength


_Plan = tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]


def _plan(alternatives: tuple[tuple[str, ...], ...]) -> _Plan:
    """A group's alternatives split into single words and phrases (empty ones dropped), so
    counting a single word is one dictionary look-up (most alternatives are one word)."""
    singles = tuple(a[0] for a in alternatives if len(a) == 1)
    return singles, tuple(a for a in alternatives if len(a) > 1)


def _count(plan: _Plan, counts: Counter[str]) -> int:
    """How often any alternative occurs (a phrase: its rarest word, anywhere in the text)."""
    singles, phrases = plan
    found = sum(map(counts.get, singles, _ZEROS))
    for phrase in phrases:
        found += min(map(counts.get, phrase, _ZEROS))
    return found


@lru_cache(maxsize=1024)
def _field(text: str) -> Counter[str]:
    """A title's or heading path's stems, counted (read only: shared by every search)."""
    return Counter(stem(w) for w in words(text))


_ZEROS = repeat(0)


def _by_page(scored: list[Scored], ranking: Ranking) -> list[Scored]:
    pages: dict[int, list[Scored]] = {}
    for item in sorted(scored, key=lambda s: -s.score):
        pages.setdefault(item.match.document_id, []).append(item)
    lifted: list[Scored] = []
    for items in pages.values():
        second = items[1].score if len(items) > 1 else 0.0
        for n, item in enumerate(items[: ranking.per_page]):
            bonus = ranking.page_boost * second if n == 0 else 0.0
            lifted.append(Scored(item.match, item.score + bonus, item.coverage, item.strength))
    lifted.sort(key=lambda s: -s.score)
    seen: set[str] = set()
    unique = []
    for item in lifted:
        if item.match.text_hash not in seen:
            seen.add(item.match.text_hash)
            unique.append(item)
    return unique
