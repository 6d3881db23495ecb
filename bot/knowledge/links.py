"""The public URL of a page, from the file's path under its folder and the site's base URL, the
way static site generators map them (`--url-base`).

Hugo: `content/en/user/moving.md` -> `{base}/user/moving/` (the content folder and a language
folder are not part of the URL; `_index.md` and `index.md` are their folder's page; front
matter `url` replaces the whole path and `slug` the last part). Docusaurus: `docs/intro.md` ->
`{base}/docs/intro/` (number prefixes such as `01-` dropped; `slug: /x` is the path from the
base). HTML and text files keep their file name. Pages get a trailing slash, which both
generators serve.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_MARKDOWN = frozenset({".md", ".markdown", ".mdx", ".mdown"})
_INDEX = frozenset({"_index", "index", "readme"})
_LANGUAGE = re.compile(r"^[a-z]{2}(?:[-_][A-Za-z]{2,4})?$")
_NUMBER_PREFIX = re.compile(r"^\d+[-_]")


def page_url(base: str, relative: str, meta: dict[str, str]) -> str:
    """The URL of the page at `relative` (a POSIX path under the added folder)."""
    base = base if base.endswith("/") else base + "/"
    explicit = meta.get("url") or meta.get("permalink")
    if explicit:
        return base + explicit.strip().lstrip("/")
    path = PurePosixPath(relative)
    if path.suffix.lower() not in _MARKDOWN:
        return base + relative.lstrip("/")
    parts = list(path.with_suffix("").parts)
    if parts and parts[0] == "content":  # Hugo's content folder, then maybe a language
        parts = parts[1:]
        if len(parts) > 1 and _LANGUAGE.match(parts[0]):
            parts = parts[1:]
    parts = [_NUMBER_PREFIX.sub("", part) for part in parts]
    if parts and parts[-1].lower() in _INDEX:
        parts = parts[:-1]
    slug = meta.get("slug", "").strip()
    if slug.startswith("/"):
        parts = [p for p in slug.split("/") if p]
    elif slug:
        parts = [*parts[:-1], slug] if parts else [slug]
    joined = "/".join(parts)
    return base + (f"{joined}/" if joined else "")


def with_anchor(url: str | None, anchor: str) -> str | None:
    return f"{url}#{anchor}" if url and anchor else url
