"""Passage embeddings for optional semantic retrieval (KB_EMBEDDING_MODEL), stored compactly.

A vector is scaled to length 1, then stored as one float32 scale and one signed byte per
dimension (`kb_vectors`, 1 KB for 1,024 dimensions instead of 4 KB of float32): cosine
similarity then is the byte vectors' dot product times both scales, within about 1% of the
float one. Each row keeps the model that made it and a hash of the text it embedded, so a page
re-indexed keeps the vectors of its passages whose text did not change (`carry`), and a
change of model leaves the old vectors unused until `kb sync` embeds the passages again.
"""

from __future__ import annotations

import hashlib
import math
import struct
from array import array
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from storage.knowledge_tables import kb_documents_t, kb_passages_t, kb_vectors_t

Vector = tuple[float, int, bytes]  # scale, dimensions, signed bytes


def embedding_text(title: str, headings: str, body: str) -> str:
    """What is embedded for a passage: its page's title and heading path, then its text."""
    path = " › ".join(part for part in (title, headings) if part)
    return f"{path}\n\n{body}" if path else body


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pack(vector: Sequence[float]) -> bytes:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    top = max((abs(x) for x in vector), default=0.0) / norm or 1.0
    scale = top / 127
    values = array("b", (round(x / norm / scale) for x in vector))
    return struct.pack("<f", scale) + values.tobytes()


def unpack(blob: bytes) -> tuple[float, array[int]]:
    (scale,) = struct.unpack_from("<f", blob)
    values = array("b")
    values.frombytes(blob[4:])
    return scale, values


def pending(conn: sa.Connection, model: str, limit: int) -> list[tuple[int, str, str]]:
    """Up to `limit` passages with no vector from `model`: (id, embedded text, its hash)."""
    p, d, v = kb_passages_t.c, kb_documents_t.c, kb_vectors_t.c
    rows = conn.execute(
        sa.select(p.id, d.title, p.headings, p.body)
        .join(kb_documents_t, d.id == p.document_id)
        .outerjoin(kb_vectors_t, sa.and_(v.passage_id == p.id, v.model == model))
        .where(v.passage_id.is_(None))
        .order_by(p.id)
        .limit(limit)
    )
    found = []
    for passage_id, title, headings, body in rows:
        text = embedding_text(title, headings, body)
        found.append((passage_id, text, text_hash(text)))
    return found


def store(conn: sa.Connection, *, model: str, rows: Iterable[tuple[int, str, bytes]]) -> int:
    """Store (passage id, text hash, packed vector) rows, replacing older ones; how many. A
    passage removed meanwhile is skipped."""
    rows = list(rows)
    if not rows:
        return 0
    ids = [passage_id for passage_id, _, _ in rows]
    present = set(conn.execute(sa.select(kb_passages_t.c.id).where(kb_passages_t.c.id.in_(ids)))
                  .scalars())  # fmt: skip
    rows = [row for row in rows if row[0] in present]
    conn.execute(sa.delete(kb_vectors_t).where(kb_vectors_t.c.passage_id.in_(ids)))
    if rows:
        conn.execute(sa.insert(kb_vectors_t), [
            {"passage_id": passage_id, "model": model, "text_hash": digest, "vector": blob}
            for passage_id, digest, blob in rows
        ])  # fmt: skip
    return len(rows)


def vectors(conn: sa.Connection, model: str, passage_ids: Sequence[int]) -> dict[int, bytes]:
    """The packed vectors `model` made for these passages (those it has)."""
    if not passage_ids:
        return {}
    v = kb_vectors_t.c
    query = sa.select(v.passage_id, v.vector).where(
        v.model == model, v.passage_id.in_(list(passage_ids))
    )
    return {passage_id: bytes(blob) for passage_id, blob in conn.execute(query)}


def old_vectors(conn: sa.Connection, document_id: int) -> dict[str, tuple[str, bytes]]:
    """A document's vectors by the hash of the text they embedded: text hash -> (model,
    vector), kept across its re-indexing (`carry`)."""
    v, p = kb_vectors_t.c, kb_passages_t.c
    rows = conn.execute(
        sa.select(v.text_hash, v.model, v.vector)
        .join(kb_passages_t, p.id == v.passage_id)
        .where(p.document_id == document_id)
    )
    return {digest: (model, bytes(blob)) for digest, model, blob in rows}


def carry(
    conn: sa.Connection,
    old: dict[str, tuple[str, bytes]],
    passages: Iterable[tuple[int, str, str, str]],
) -> None:
    """Give each new passage (id, title, headings, body) whose embedded text is unchanged its
    old vector: only what changed is embedded again."""
    if not old:
        return
    rows = []
    for passage_id, title, headings, body in passages:
        digest = text_hash(embedding_text(title, headings, body))
        if digest in old:
            model, blob = old[digest]
            rows.append(
                {"passage_id": passage_id, "model": model, "text_hash": digest, "vector": blob}
            )
    if rows:
        conn.execute(sa.insert(kb_vectors_t), rows)
