"""Searching the knowledge base: `KnowledgeBase.search(question, collections, k)` returns the
best passages, each with its page's title, heading path, link and text, and a confidence that
they answer the question (see `bot.knowledge.ranking`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.knowledge.links import with_anchor
from bot.knowledge.query import Group, analyze
from bot.knowledge.ranking import Ranking, Scored, rank
from bot.knowledge.sections import heading_path
from bot.knowledge.semantic import Semantic, fused
from bot.knowledge.spelling import correction
from bot.llm.types import Asker
from storage.knowledge import KnowledgeStore
from storage.knowledge_records import Match
from storage.knowledge_search import DEPTH, SYNONYM_DEPTH, Sought, Weights, lookup, match

if TYPE_CHECKING:
    from sqlalchemy import Connection

CANDIDATES = 50  # passages fetched from the index for ranking, whatever k


@dataclass(frozen=True)
class Options:
    """How a search runs (the bench compares settings; these are the shipped ones)."""

    synonyms: bool = True
    spelling: bool = True
    stop_words: bool = True  # leave out words too common to say what a question is about
    every_word: bool = False  # match only passages with every word (AND), not any (OR)
    weights: Weights = field(default_factory=Weights)
    ranking: Ranking = field(default_factory=Ranking)
    candidates: int = CANDIDATES
    depth: int = DEPTH  # postings read per term: the passages that use it most
    synonym_depth: int = SYNONYM_DEPTH  # for a synonym the question did not use
    # Words in more than this share of the documents choose no candidates (they still count in
    # the ranking): a common word matches most passages, and ranking them all is what makes a
    # search slow on a large knowledge base. The two rarest words always choose.
    common: float = 0.5
    least: int = 2  # with three words or more, candidates have at least this many of them


@dataclass(frozen=True)
class Found:
    """A passage found for a question."""

    collection: str
    document: str  # the page's title
    name: str  # its path, for a citation without a link
    url: str | None  # its public URL, to the passage's heading when it has one
    headings: tuple[str, ...]  # below the title
    text: str
    score: float
    document_id: int
    passage_id: int

    @property
    def section(self) -> str:
        """The title and the headings down to the passage ("Billing › Change your VAT ID")."""
        return heading_path(self.document, self.headings)


@dataclass(frozen=True)
class Retrieval:
    question: str
    passages: tuple[Found, ...]
    confidence: float  # 0..1: how much of the question the best passage covers
    words: tuple[str, ...] = ()  # what was searched for, corrections included
    documents: int = 0  # in the collections searched (0: nothing to answer from)

    def answers(self, threshold: float) -> bool:
        return bool(self.passages) and self.confidence >= threshold


@dataclass(frozen=True)
class Matched:
    """A question's words and the passages the index found for them, not yet ranked."""

    groups: tuple[Group, ...]
    documents: int  # in the collections searched
    matches: list[Match]


class KnowledgeBase:
    def __init__(
        self,
        store: KnowledgeStore,
        options: Options | None = None,
        semantic: Semantic | None = None,
    ) -> None:
        self.store = store
        self.options = options or Options()
        self.semantic = semantic  # KB_EMBEDDING_MODEL: similar passages move up

    async def search(
        self,
        question: str,
        collections: Sequence[str] | None = None,
        k: int = 5,
        asker: Asker | None = None,
    ) -> Retrieval:
        """The `k` best passages for `question` in `collections` (None: all of them); with
        semantic retrieval, embedding the question is a call on `asker`'s account."""
        options = self.options
        matched = await self.matched(question, collections, max(options.candidates, k))
        if not matched.groups:
            return Retrieval(question, (), 0.0, documents=matched.documents)
        groups = matched.groups
        ranked, confidence = rank(
            matched.matches, groups, matched.documents, options.ranking, options.weights
        )
        if self.semantic is not None and ranked:
            ranked = await self._fused(question, ranked, asker)
        passages = tuple(
            Found(
                m.collection, m.title, m.name, with_anchor(m.url, m.anchor), m.headings,
                m.text, round(s.score, 4), m.document_id, m.passage_id,
            )
            for s in ranked[:k]
            for m in (s.match,)
        )  # fmt: skip
        words = tuple(a for g in groups for a in g.alternatives)
        return Retrieval(question, passages, round(confidence, 4), words, matched.documents)

    async def matched(
        self, question: str, collections: Sequence[str] | None, limit: int
    ) -> Matched:
        """The question's words, as looked up (corrections included), and the `limit`
        candidate passages the index finds for them, before ranking."""
        options = self.options
        asked = analyze(question, synonyms=options.synonyms, stop_words=options.stop_words)
        singles = [g.word for g in asked if " " not in g.word]

        def body(conn: Connection) -> Matched:
            """The words looked up, corrected and matched in one transaction: one thread hop
            on SQLite, one round of the pool on PostgreSQL."""
            found = lookup(conn, singles, collections)
            if not asked or not found.documents:
                return Matched((), found.documents, [])
            groups = tuple(self._known(g, found.known, found.candidates) for g in asked)
            synonyms = {a for g in asked for a in g.alternatives[1:]}
            query = [
                Sought(
                    g.alternatives,
                    g.idf(found.documents),
                    frozenset(synonyms & set(g.alternatives)),
                )
                for g in selective(groups, found.documents, options.common)
            ]
            least = len(query) if options.every_word else options.least if len(query) > 2 else 1
            matches = match(
                conn, query, found.collections, limit, least=least, strict=options.every_word,
                depth=options.depth, synonym_depth=options.synonym_depth,
            )  # fmt: skip
            return Matched(groups, found.documents, matches)

        return await self.store.run(body)

    async def _fused(
        self, question: str, ranked: list[Scored], asker: Asker | None
    ) -> list[Scored]:
        """The ranked passages re-ordered with their similarity to the question (reciprocal
        rank fusion); as they were when the question could not be embedded."""
        assert self.semantic is not None
        ids = [s.match.passage_id for s in ranked]
        similarity = await self.semantic.similarities(question, ids, asker)
        if not similarity:
            return ranked
        by_id = {s.match.passage_id: s for s in ranked}
        return [by_id[passage_id] for passage_id in fused(ids, similarity)]

    def _known(
        self, group: Group, known: dict[str, int], candidates: dict[str, list[tuple[str, int]]]
    ) -> Group:
        """The group with how many documents use it, and a spelling correction when nothing
        in the documents matches the word as written."""
        documents = max((known.get(a, 0) for a in group.alternatives), default=0)
        group = Group(group.alternatives, documents)
        if self.options.spelling and group.word in candidates:
            fixed = correction(group.word, candidates[group.word])
            if fixed is not None:
                used = dict(candidates[group.word])[fixed]
                group = Group(group.with_alternatives(fixed).alternatives, max(documents, used))
        return group


def selective(groups: tuple[Group, ...], documents: int, common: float) -> tuple[Group, ...]:
    """The groups that choose candidates: the rare ones, and at least the two rarest."""
    rare = tuple(g for g in groups if g.documents <= common * documents)
    if len(rare) >= min(2, len(groups)):
        return rare
    return tuple(sorted(groups, key=lambda g: g.documents)[:2])
