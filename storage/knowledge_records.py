"""Plain values the knowledge base stores and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Passage:
    position: int  # order in the page, from 0
    headings: tuple[str, ...]  # the heading path below the page's title
    anchor: str  # the heading's id in the page ("" before the first heading)
    text: str
    stems: str = ""  # the text's words, Porter-stemmed, space-separated (for ranking)


@dataclass(frozen=True)
class Page:
    """One document, parsed: what `KnowledgeStore.put` stores in one transaction."""

    path: str  # its key in the collection: a file's absolute path, or any name given
    name: str  # what a citation shows without a link (a file's path under its folder)
    title: str
    url: str | None  # the public page, when the folder was added with a URL base
    content_hash: str  # of the raw file: `kb sync` re-reads only what changed
    passages: tuple[Passage, ...]
    terms: frozenset[str] = frozenset()  # its words, for spelling correction of questions


@dataclass(frozen=True)
class Source:
    """A folder or file added with `kb add`, re-read by `kb sync`."""

    id: int
    collection: str
    root: str
    url_base: str | None
    synced_at: datetime | None


@dataclass(frozen=True)
class StoredDocument:
    id: int
    collection: str
    source_id: int | None
    path: str
    name: str
    title: str
    url: str | None
    content_hash: str
    passages: int


@dataclass(frozen=True)
class Match:
    """A passage a query matched, with the back end's own score (higher is better)."""

    passage_id: int
    document_id: int
    collection: str
    path: str
    name: str
    title: str
    url: str | None
    headings: tuple[str, ...]
    anchor: str
    text: str
    text_hash: str
    score: float
    stems: str = ""  # see Passage.stems ("" for passages indexed before they were kept)


@dataclass(frozen=True)
class Cited:
    """A page given to the model for a question, as its answer's sources line shows it."""

    title: str
    section: str  # the heading path ("" when noted before sections were kept: the title)
    url: str | None
    path: str
