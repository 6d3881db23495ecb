"""Finding the passages that best match a question, and looking words up in the documents'
vocabulary (for spelling correction).

A query is a list of groups, each a list of alternatives (a word, or a phrase of words) that
count as the same thing, with the group's idf. Candidates come from impact-ordered postings
(`storage.knowledge_postings`): for each term of each alternative, only the `depth` passages of
each collection that use it most are read, by index (`synonym_depth` for a synonym the question
did not use), so a search reads at most terms x collections x depth rows however large the
knowledge base. A passage scores the sum of idf x weight over the rows read (a word of a
phrase counts its weight divided by the phrase's words; a passage that says both a word and
its synonym counts both, which one `GROUP BY` allows: the ranking counts them as one); those
with `least` of the groups come first, and the best `limit` are returned
with their pages, for `bot.knowledge.ranking` to order exactly. The same SQL on SQLite and
PostgreSQL: one statement, a few thousand index rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from storage.knowledge_postings import HEADINGS, SCALE, TITLE, terms
from storage.knowledge_records import Match
from storage.knowledge_stemming import stem
from storage.knowledge_tables import kb_documents_t, kb_postings_t, kb_terms_t

DEPTH = 400  # postings read per term and collection
SYNONYM_DEPTH = 100  # for a synonym the question did not use


@dataclass(frozen=True)
class Weights:
    """How much a match in the page title and the heading path counts against the body."""

    title: float = TITLE  # as the postings weigh them
    headings: float = HEADINGS
    body: float = 1.0


@dataclass(frozen=True)
class Sought:
    """One thing a question asks about: its alternatives and how much it says (idf)."""

    alternatives: tuple[str, ...]
    idf: float
    synonyms: frozenset[str] = frozenset()  # alternatives read `synonym_depth` deep


_COLUMNS = """p.id, p.document_id, d.collection, d.path, d.name, d.title, d.url, p.headings,
    p.anchor, p.body, p.body_hash, p.stems"""


def match(
    conn: sa.Connection,
    groups: Sequence[Sought],
    collections: Sequence[str],
    limit: int,
    *,
    least: int = 1,
    strict: bool = False,
    depth: int = DEPTH,
    synonym_depth: int = SYNONYM_DEPTH,
) -> list[Match]:
    """The `limit` best passages of `collections` (those `lookup` found documents in) for
    `groups`; those with at least `least` of the groups come first (`strict`: only those)."""
    params: dict[str, object] = {
        "n": limit, "depth": depth, "shallow": synonym_depth, "least": least
    }  # fmt: skip
    hits = _hits(groups, collections, params)
    if not hits or limit <= 0:
        return []
    later = "CASE WHEN groups >= :least THEN 1 ELSE 2 END"
    only = "WHERE groups >= :least" if strict else ""
    sql = f"""
        WITH hits AS ({" UNION ALL ".join(hits)}),
        scored AS (
            SELECT passage_id, SUM(weight) AS score, COUNT(DISTINCT g) AS groups FROM hits
            GROUP BY passage_id),
        best AS (
            SELECT passage_id, score, {later} AS later FROM scored {only}
            ORDER BY later, score DESC, passage_id LIMIT :n)
        SELECT {_COLUMNS}, f.score FROM best f JOIN kb_passages p ON p.id = f.passage_id
        JOIN kb_documents d ON d.id = p.document_id ORDER BY f.later, f.score DESC, p.id"""
    return [_match(row) for row in conn.execute(sa.text(sql), params)]


def _hits(
    groups: Sequence[Sought], collections: Sequence[str], params: dict[str, object]
) -> list[str]:
    """One `SELECT` of a term's best postings per term of each alternative and collection,
    weighed by its group's idf. A word of a phrase weighs its weight divided by the phrase's
    words (the ranking counts phrases exactly)."""
    for c, collection in enumerate(collections):
        params[f"c{c}"] = collection
    for g, group in enumerate(groups):
        params[f"f{g}"] = group.idf / SCALE
    names: dict[str, str] = {}
    hits: list[str] = []
    for g, group in enumerate(groups):
        for alternative in dict.fromkeys(group.alternatives):
            found = list(dict.fromkeys(terms(alternative)))
            depth = "shallow" if alternative in group.synonyms else "depth"
            for term in found:
                name = names.setdefault(term, f"t{len(names)}")
                params[name] = term
                hits.extend(
                    f"SELECT {g} AS g, s.passage_id, "
                    f"CAST(:f{g} AS FLOAT) * s.weight / {len(found)} AS weight "
                    "FROM (SELECT passage_id, weight FROM kb_postings "
                    f"WHERE collection = :c{c} AND term = :{name} "
                    f"ORDER BY weight DESC LIMIT :{depth}) AS s"
                    for c in range(len(collections))
                )
    return hits


def known_stems(
    conn: sa.Connection, words: Sequence[str], collections: Sequence[str]
) -> set[str]:
    """The `words` that some passage of `collections` uses in some form (by their stems)."""
    stems = {w: stem(w) for w in words}
    if not stems:
        return set()
    k = kb_postings_t.c
    used = set(
        conn.execute(
            sa.select(k.term).distinct().where(
                k.collection.in_(collections),
                k.term.in_(set(stems.values())),
            )
        ).scalars()
    )  # fmt: skip
    return {w for w, s in stems.items() if s in used}


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


# The documents of each collection that has some: what a question needs before it reads a
# posting (how many documents, for the words' idf, and which collections to read), in one
# round trip instead of one for the count and one or two for the list. Asked for every
# question, so built once (a fresh statement costs more than running it), the collections as
# one expanding parameter (a statement built per question with its own IN list paid for its
# cache key every time).
_PER_COLLECTION = sa.select(kb_documents_t.c.collection, sa.func.count()).group_by(
    kb_documents_t.c.collection
)
_PER_COLLECTION_IN = _PER_COLLECTION.where(
    kb_documents_t.c.collection.in_(sa.bindparam("collections", expanding=True))
)


# The documents in the channel's collections, as a column of the question's own statement
# (storage.turns): a question on a channel with nothing to search costs no search.
DOCUMENTS_IN = (
    sa.select(sa.func.count())
    .where(kb_documents_t.c.collection.in_(sa.bindparam("collections", expanding=True)))
    .scalar_subquery()
)


def per_collection(conn: sa.Connection, collections: Sequence[str] | None = None) -> dict[str, int]:
    """The documents of each of `collections` (None: all) that has any, by name."""
    if collections is None:
        rows = conn.execute(_PER_COLLECTION)
    else:
        rows = conn.execute(_PER_COLLECTION_IN, {"collections": list(collections)})
    return {collection: int(documents) for collection, documents in rows}


@dataclass(frozen=True)
class Lookup:
    """What the documents know of a question's words."""

    documents: int  # in the collections asked about
    known: dict[str, int]  # word -> documents using it (as written)
    candidates: dict[str, list[tuple[str, int]]]  # words nothing matches -> similar words
    collections: tuple[str, ...] = ()  # those asked about that have documents


def lookup(
    conn: sa.Connection, words: Sequence[str], collections: Sequence[str] | None = None
) -> Lookup:
    found = per_collection(conn, collections)
    documents = sum(found.values())
    if not documents:  # nothing to search: no word is looked up (every question asks this)
        return Lookup(0, {}, {})
    searched = tuple(found)
    known = known_terms(conn, words)
    unknown = [w for w in words if w not in known]
    matched = known_stems(conn, unknown, searched)
    candidates = {w: similar_terms(conn, w) for w in unknown if w not in matched}
    return Lookup(documents, known, candidates, searched)
