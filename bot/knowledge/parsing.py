"""A file's text to a `Page`: chosen by suffix (Markdown and MDX, HTML, plain text), with its
title, its public URL and its passages."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import PurePosixPath

from bot.knowledge.config import HTML, MARKDOWN
from bot.knowledge.frontmatter import split_front_matter
from bot.knowledge.hypertext import html_sections
from bot.knowledge.links import page_url
from bot.knowledge.markdown import markdown_sections
from bot.knowledge.sections import Section, cut
from storage.knowledge_records import Page
from storage.knowledge_stemming import stem
from storage.knowledge_words import words

MAX_TERM = 40  # longer "words" are hashes, keys and data, not something a question misspells


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def parse_page(
    text: str,
    *,
    path: str,
    name: str,
    url_base: str | None = None,
    digest: str = "",
    title: str = "",
    url: str | None = None,
    parse_as: str = "",
) -> Page:
    """Parse `text` as the suffix of `name` (or `parse_as`) says; anything else is plain text.

    `name` is the path shown in citations and mapped to a URL under `url_base`; `title` and
    `url`, when given, win over what the page says (a document added by a program).
    """
    suffix = parse_as or PurePosixPath(name).suffix.lower()
    meta: dict[str, str] = {}
    if suffix in MARKDOWN:
        meta, body = split_front_matter(text)
        first_h1, sections = markdown_sections(body)
        found_title, description = meta.get("title", "") or first_h1, meta.get("description", "")
    elif suffix in HTML:
        found_title, description, sections = html_sections(text)
    else:
        found_title, description, sections = "", "", [Section((), "", text)]
    title = " ".join((title or found_title or _title_from(name)).split())
    sections = _below_title(title, sections)
    if description:  # the page's summary leads its first passage
        at = next((i for i, s in enumerate(sections) if s.text.strip()), None)
        if at is None:
            sections.insert(0, Section((), "", description))
        else:
            first = sections[at]
            sections[at] = Section(first.headings, first.anchor, f"{description}\n\n{first.text}")
    if url is None and url_base:
        url = page_url(url_base, name, meta)
    passages = tuple(
        replace(p, stems=" ".join(stem(w) for w in words(p.text))) for p in cut(sections)
    )
    texts = [title, *(p.text for p in passages), *(h for p in passages for h in p.headings)]
    terms = frozenset(w for t in texts for w in words(t) if 1 < len(w) <= MAX_TERM)
    return Page(path, name, title, url, digest or content_hash(text.encode()), passages, terms)


def _title_from(name: str) -> str:
    stem = PurePosixPath(name).stem
    if stem.lower() in ("_index", "index", "readme"):
        stem = PurePosixPath(name).parent.name or stem
    return re.sub(r"[-_]+", " ", stem).strip().capitalize()


def _below_title(title: str, sections: list[Section]) -> list[Section]:
    """Heading paths start below the title: a first heading that repeats it is left out."""

    def trimmed(section: Section) -> Section:
        if section.headings and section.headings[0].casefold() == title.casefold():
            return Section(section.headings[1:], section.anchor, section.text)
        return section

    return [trimmed(section) for section in sections]
