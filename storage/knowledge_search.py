"""Matching passages with each database's own full-text search, and looking words up in the
documents' vocabulary (for spelling correction).

A query is a list of groups, each a list of alternatives (a word, or a phrase of words); a
passage matches when it contains some alternative of at least `least` of the groups (1: any,
OR; all of them: AND). The score is the back
end's own (higher is better): SQLite FTS5's bm25 with the title and heading columns weighted,
PostgreSQL's ts_rank_cd over the weighted tsvector.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from storage.knowledge_records import Match
from storage.knowledge_tables import kb_documents_t, kb_terms_t

Query = Sequence[Sequence[str]]
MAX_COMBINATIONS = 28  # of groups a passage must match together; past it, any group (OR)


@dataclass(frozen=True)
class Weights:
    """How much a match in the page title and the heading path counts against the body."""

    title: float = 4.0
    headings: float = 2.0
    body: float = 1.0


_COLUMNS = """p.id, p.document_id, d.collection, d.path, d.name, d.title, d.url, p.headings,
    p.anchor, p.body, p.body_hash, p.stems"""


def match(
    conn: sa.Connection,
    query: Query,
    collections: Sequence[str] | None,
    limit: int,
    weights: Weights = Weights(),
    *,
    least: int = 1,
) -> list[Match]:
    """The `limit` best passages containing (some alternative of) at least `least` of the
    groups: 1 is any word (OR), the number of groups is every word (AND)."""
    groups = [list(dict.fromkeys(a for a in group if a.strip())) for group in query]
    groups = [group for group in groups if group]
    if not groups or limit <= 0:
        return []
    build = _postgres if conn.dialect.name == "postgresql" else _sqlite
    least = min(max(least, 1), len(groups))
    if math.comb(len(groups), least) > MAX_COMBINATIONS:
        least = 1
    # The index ranks first and only its best rows are joined to their pages (a common word
    # matches thousands of passages); with a collection filter, more are ranked, and all of
    # them when too few of those are in the collections.
    for inner in ((limit if collections is None else limit * 8), None):
        params: dict[str, object] = {"n": limit, "inner": inner if inner is not None else -1}
        ranked = build(groups, weights, least, params)
        sql = (
            f"SELECT {_COLUMNS}, f.score FROM ({ranked}) f JOIN kb_passages p ON p.id = f.id "
            "JOIN kb_documents d ON d.id = p.document_id WHERE TRUE"
            f"{_in_collections(collections, params)} ORDER BY f.score DESC, p.id LIMIT :n"
        )
        found = [_match(row) for row in conn.execute(sa.text(sql), params)]
        if len(found) >= limit or inner is None or collections is None:
            return found
    return found


def fts5_expression(alternatives: Sequence[str]) -> str:
    """`"word" OR ("two" AND "words")`: every user word quoted, so FTS5's syntax characters are
    text; the words of a phrase anywhere in the passage, not only side by side."""
    return " OR ".join(_fts5_all(a) for a in dict.fromkeys(alternatives))


def _fts5_all(alternative: str) -> str:
    quoted = ['"' + w.replace('"', '""') + '"' for w in alternative.split()]
    return quoted[0] if len(quoted) == 1 else f"({' AND '.join(quoted)})"


def _in_collections(collections: Sequence[str] | None, params: dict[str, object]) -> str:
    if collections is None:
        return ""
    names = []
    for i, name in enumerate(collections):
        params[f"c{i}"] = name
        names.append(f":c{i}")
    return f" AND d.collection IN ({', '.join(names) or 'NULL'})"


def _sqlite(groups: list[list[str]], w: Weights, least: int, params: dict[str, object]) -> str:
    """The passages FTS5 ranks best (id, score): bm25, lower is better, so negated."""
    if least == 1:
        params["q"] = fts5_expression([a for group in groups for a in group])
    else:
        params["q"] = " OR ".join(
            "(" + " AND ".join(f"({fts5_expression(g)})" for g in chosen) + ")"
            for chosen in itertools.combinations(groups, least)
        )
    rank = f"bm25(kb_passages_fts, {w.title:f}, {w.headings:f}, {w.body:f})"
    return (
        f"SELECT rowid AS id, -{rank} AS score FROM kb_passages_fts "
        f"WHERE kb_passages_fts MATCH :q ORDER BY {rank} LIMIT :inner"
    )


def _postgres(groups: list[list[str]], w: Weights, least: int, params: dict[str, object]) -> str:
    """The passages a tsquery of the groups ranks best (id, score) by ts_rank_cd."""
    ors = []
    for g, group in enumerate(groups):
        alternatives = []
        for i, alternative in enumerate(group):
            params[f"a{g}_{i}"] = alternative
            alternatives.append(f"plainto_tsquery('english', :a{g}_{i})")
        ors.append(f"({' || '.join(alternatives)})")
    query = " || ".join(
        "(" + " && ".join(chosen) + ")" for chosen in itertools.combinations(ors, least)
    )
    top = max(w.title, w.headings, w.body)
    # ts_rank_cd's weights are {D, C, B, A} in 0..1: body, -, headings, title.
    weights = f"'{{{w.body / top:f}, 0, {w.headings / top:f}, {w.title / top:f}}}'"
    return (
        f"SELECT k.id, ts_rank_cd({weights}::float4[], k.search, q.query) AS score "
        f"FROM (SELECT {query} AS query) q, kb_passages k WHERE k.search @@ q.query "
        "ORDER BY score DESC, k.id LIMIT (CASE WHEN :inner < 0 THEN NULL ELSE :inner END)"
    )


def _match(row: sa.Row[tuple[object, ...]]) -> Match:
    m = row._mapping
    headings = tuple(h for h in str(m["headings"]).split(" › ") if h)
    return Match(
        m["id"], m["document_id"], m["collection"], m["path"], m["name"], m["title"], m["url"],
        headings, m["anchor"], m["body"], m["body_hash"], float(m["score"]), m["stems"],
    )  # fmt: skip


def known_terms(conn: sa.Connection, terms: Sequence[str]) -> dict[str, int]:
    """How many documents use each of `terms` (absent: none)."""
    if not terms:
        return {}
    t = kb_terms_t.c
    rows = conn.execute(sa.select(t.term, t.documents).where(t.term.in_(list(terms)[:500])))
    return {term: documents for term, documents in rows}


def similar_terms(conn: sa.Connection, word: str, limit: int = 20) -> list[tuple[str, int]]:
    """Words of the documents that share the most letter trigrams with `word`, with how many
    documents use each: candidates for correcting a misspelling."""
    if len(word) < 3:
        return []
    if conn.dialect.name == "postgresql":
        return _similar_postgres(conn, word, limit)
    trigrams = dict.fromkeys(word[i : i + 3] for i in range(len(word) - 2))
    expression = " OR ".join('"' + t.replace('"', '""') + '"' for t in trigrams)
    rows = conn.execute(
        sa.text(
            "SELECT t.term, t.documents FROM kb_terms_trigrams g JOIN kb_terms t ON t.id = g.rowid "
            "WHERE kb_terms_trigrams MATCH :q ORDER BY bm25(kb_terms_trigrams) LIMIT :n"
        ),
        {"q": expression, "n": limit},
    )
    return [(term, documents) for term, documents in rows]


_TRIGRAM_SCHEMA = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_trgm'"
)


def _similar_postgres(conn: sa.Connection, word: str, limit: int) -> list[tuple[str, int]]:
    schema = conn.scalar(sa.text(_TRIGRAM_SCHEMA))
    if schema is None:
        return []  # the extension could not be created: no spelling correction
    s = conn.dialect.identifier_preparer.quote(schema)
    rows = conn.execute(
        sa.text(
            f"SELECT term, documents FROM {kb_terms_t.name} WHERE term OPERATOR({s}.%) :w "
            f"ORDER BY {s}.similarity(term, :w) DESC, documents DESC LIMIT :n"
        ),
        {"w": word, "n": limit},
    )
    return [(term, documents) for term, documents in rows]


# Asked for every question: built once (a fresh statement costs more than running it).
_COUNTS = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(kb_documents_t.c.passages), 0))


def counts(conn: sa.Connection, collections: Sequence[str] | None = None) -> tuple[int, int]:
    """(documents, passages) in `collections` (None: the whole knowledge base)."""
    query = _COUNTS
    if collections is not None:
        query = query.where(kb_documents_t.c.collection.in_(list(collections)))
    documents, passages = conn.execute(query).one()
    return int(documents), int(passages)


@dataclass(frozen=True)
class Lookup:
    """What the documents know of a question's words."""

    documents: int  # in the collections asked about
    known: dict[str, int]  # word -> documents using it (as written)
    candidates: dict[str, list[tuple[str, int]]]  # words nothing matches -> similar words


def lookup(
    conn: sa.Connection, words: Sequence[str], collections: Sequence[str] | None = None
) -> Lookup:
    documents, _ = counts(conn, collections)
    if not documents:  # nothing to search: no word is looked up (every question asks this)
        return Lookup(0, {}, {})
    known = known_terms(conn, words)
    candidates = {}
    for word in words:
        if word not in known and not _matches_anything(conn, word):
            candidates[word] = similar_terms(conn, word)
    return Lookup(documents, known, candidates)


def _matches_anything(conn: sa.Connection, word: str) -> bool:
    """True when some passage has `word` in any form the index's stemmer relates to it."""
    if conn.dialect.name == "postgresql":
        sql = "SELECT 1 FROM kb_passages WHERE search @@ plainto_tsquery('english', :w) LIMIT 1"
        return conn.execute(sa.text(sql), {"w": word}).first() is not None
    sql = "SELECT 1 FROM kb_passages_fts WHERE kb_passages_fts MATCH :w LIMIT 1"
    return conn.execute(sa.text(sql), {"w": fts5_expression([word])}).first() is not None
