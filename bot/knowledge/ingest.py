"""Adding documents to the knowledge base and keeping them in step with their folders.

`Ingest.add` registers folders or files as sources of a collection and indexes them;
`Ingest.sync` reads every source again: changed files are re-indexed, new ones added, deleted
ones dropped, by content hash (a run that finds nothing new writes nothing). Each page is
stored in its own transaction, whole or not at all. A file that cannot be used is one
`Problem` line and is skipped (its indexed version, if any, stays); a source that cannot be
listed at all drops nothing. `Ingest.put_text` adds one document from a program.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.knowledge.config import DEFAULT_COLLECTION
from bot.knowledge.semantic import Embedding, Semantic
from storage.knowledge import KnowledgeStore, Outcome
from storage.knowledge_records import Source

__all__ = ["DEFAULT_COLLECTION", "Ingest", "Problem", "Reader", "Report", "SourceFile"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    path: str  # absolute
    name: str  # POSIX path under the source's root (its file name when the root is a file)
    raw: bytes


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str
    whole: bool = False  # the source could not be listed at all: nothing of it is dropped

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class Reader(Protocol):
    """Reads a folder or file for indexing (adapters.knowledge.folders)."""

    def absolute(self, root: str) -> str: ...

    def read(self, root: str) -> Iterator[SourceFile | Problem]: ...


@dataclass
class Report:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    passages: int = 0  # in the documents added or changed
    problems: list[Problem] = field(default_factory=list)
    embedding: Embedding | None = None  # with KB_EMBEDDING_MODEL: the passages embedded

    @property
    def read(self) -> int:
        return self.added + self.changed + self.unchanged

    def count(self, outcome: Outcome, passages: int) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome != "unchanged":
            self.passages += passages


class Ingest:
    def __init__(
        self, store: KnowledgeStore, reader: Reader, semantic: Semantic | None = None
    ) -> None:
        self.store = store
        self.reader = reader
        self.semantic = semantic  # then passages with no vector are embedded after indexing

    async def _embed(self, report: Report) -> None:
        """Embed the passages that have no vector yet; a failure is one problem line (the
        word index works without vectors; the next sync embeds what is missing)."""
        if self.semantic is None:
            return
        report.embedding = done = await self.semantic.embed_pending()
        if done.error:
            report.problems.append(Problem(
                "embeddings", f"{done.error}; {done.passages} passage(s) embedded, the rest "
                "are found by their words only until `switchboard kb sync` embeds them",
            ))  # fmt: skip

    async def add(self, roots: Sequence[str], collection: str, url_base: str | None) -> Report:
        report = Report()
        for root in roots:
            absolute = self.reader.absolute(root)
            listed = list(self.reader.read(root))
            whole = [p for p in listed if isinstance(p, Problem) and p.whole]
            if whole:
                report.problems.extend(whole)
                continue
            source = await self.store.add_source(collection, absolute, url_base)
            await self._index(source, listed, report)
        await self._settle(report)
        return report

    async def sync(self, collection: str | None = None) -> Report:
        report = Report()
        for source in await self.store.sources(collection):
            listed = list(self.reader.read(source.root))
            whole = [p for p in listed if isinstance(p, Problem) and p.whole]
            if whole:
                kept = len(await self.store.documents(source_id=source.id))
                kept_note = f"its {kept} document(s) kept (`kb remove {source.root}` drops them)"
                report.problems.extend(
                    Problem(p.path, f"{p.reason}; {kept_note}", whole=True) for p in whole
                )
                continue
            await self._index(source, listed, report)
        await self._settle(report)
        return report

    async def _settle(self, report: Report) -> None:
        """After a batch: the database's statistics brought up to date (when anything
        changed), then the new passages embedded."""
        if report.added or report.changed or report.removed:
            await self.store.refresh_statistics()
        await self._embed(report)

    async def _index(
        self, source: Source, listed: list[SourceFile | Problem], report: Report
    ) -> None:
        from bot.knowledge import parsing  # with the first page: see `put_text`

        seen: set[str] = set()
        for item in listed:
            seen.add(item.path)
            if isinstance(item, Problem):
                report.problems.append(item)
                continue
            text = decode(item.raw)
            if isinstance(text, str):
                page = parsing.parse_page(
                    text, path=item.path, name=item.name, url_base=source.url_base,
                    digest=parsing.content_hash(item.raw),
                )  # fmt: skip
                outcome = await self.store.put(source.collection, page, source.id)
                report.count(outcome, len(page.passages))
            else:
                report.problems.append(Problem(item.path, text.reason))
        unread = tuple(p.path.rstrip("/") + "/" for p in listed if isinstance(p, Problem))
        gone = [
            d.id
            for d in await self.store.documents(source_id=source.id)
            if d.path not in seen and not d.path.startswith(unread)
        ]
        if gone:
            report.removed += await self.store.remove(gone)
        await self.store.mark_synced(source.id)

    async def put_text(
        self,
        collection: str,
        path: str,
        text: str,
        *,
        title: str = "",
        url: str | None = None,
        kind: str = "markdown",
    ) -> Outcome:
        """Add or replace one document from a program (a solved thread, a note): `path` is
        its key in the collection and is shown in citations without a link; `kind` is
        "markdown", "html" or "text"."""
        # The parsers (Markdown, HTML, front matter) load with the first page: a bot that
        # never indexes one does not carry them (docs/benchmarks.md, section 12).
        from bot.knowledge import parsing

        suffix = {"markdown": ".md", "html": ".html", "text": ".txt"}[kind]
        page = parsing.parse_page(text, path=path, name=path, title=title, url=url, parse_as=suffix)
        outcome = await self.store.put(collection, page)
        if outcome != "unchanged":
            report = Report()
            await self._embed(report)
            for problem in report.problems:
                log.warning("%s", problem)
        return outcome


@dataclass(frozen=True)
class Undecodable:
    reason: str


def decode(raw: bytes) -> str | Undecodable:
    """A file's text: UTF-8 (a byte-order mark allowed), or UTF-16 with its mark."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            return Undecodable("not valid UTF-16 text; skipped")
    if b"\x00" in raw[:8192]:
        return Undecodable("a binary file, not text; skipped")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Undecodable(
            f"not UTF-8 text (byte {error.start} cannot be decoded); convert it to UTF-8"
        )
