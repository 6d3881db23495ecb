"""Markdown (CommonMark, GitHub, Docusaurus MDX and Hugo flavours) to sections of plain-ish text.

What a reader sees is kept: the text inside components (`<details>`, `<Tabs>`, admonitions,
Hugo shortcodes such as `{{< hint >}}`), link texts, code. What only the site builder reads is
dropped: MDX `import`/`export` lines, component tags, shortcode tags (their `caption`/`title`
shown as text), images, HTML comments, styles and scripts, link targets. Headings inside code
blocks are code.
"""

from __future__ import annotations

import html
import re

from bot.knowledge.sections import Outline, Section

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_ANCHOR = re.compile(r"\s*\{#([^}\s]+)\}\s*$")
_MDX_LINE = re.compile(r"^(?:import\s.+|import\s*['\"].*|export\s+(?:const|default|function)\b.*)$")
_ADMONITION = re.compile(r"^\s*:::+\s*([A-Za-z]*)(?:\[(.*?)\]|\s+(.*?))?\s*$")
_SHORTCODE = re.compile(r"\{\{[<%]\s*/?\s*[\w./-]*((?:[^}]|\}(?!\}))*?)/?\s*[>%]\}\}")
_SHOWN_ATTRIBUTE = re.compile(r"\b(?:caption|title)\s*=\s*\"([^\"]*)\"")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\((?:[^()]|\([^)]*\))*\)|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]+)\](?:\((?:[^()]|\([^)]*\))*\)|\[[^\]]*\])")
_TAG = re.compile(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*?)?/?>")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_LIST_OR_TABLE = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|\|)")


def markdown_sections(body: str) -> tuple[str, list[Section]]:
    """(the text of the first level-1 heading, or "", the page's sections in order)."""
    reader = _Reader()
    for line in _without_comments(body).splitlines():
        reader.feed(line)
    reader.outline.end("\n".join(reader.lines))
    return reader.outline.first_h1, reader.outline.sections


class _Reader:
    def __init__(self) -> None:
        self.outline = Outline()
        self.lines: list[str] = []
        self.fence = ""
        self.slugs: dict[str, int] = {}

    def feed(self, line: str) -> None:
        if self.fence:
            if line.strip().startswith(self.fence) and not line.strip().strip(self.fence[0]):
                self.fence = ""
            else:
                self.lines.append(line)
            return
        fence = _FENCE.match(line)
        if fence:
            self.fence = fence.group(1)
            return
        if _MDX_LINE.match(line) or _REFERENCE.match(line):
            return
        atx = _ATX.match(line)
        if atx:
            self.heading(len(atx.group(1)), atx.group(2) or "")
            return
        setext = _SETEXT.match(line)
        if setext and self._setext_candidate():
            title = self.lines.pop()
            self.heading(1 if setext.group(1)[0] == "=" else 2, title.strip())
            return
        admonition = _ADMONITION.match(line)
        if admonition:
            title = admonition.group(2) or admonition.group(3) or ""
            self.lines.append(clean_inline(title))
            return
        self.lines.append(clean_inline(line))

    def _setext_candidate(self) -> bool:
        if not self.lines or not self.lines[-1].strip():
            return False
        previous = self.lines[-1]
        before = self.lines[-2] if len(self.lines) > 1 else ""
        return not _LIST_OR_TABLE.match(previous) and not before.strip()

    def heading(self, level: int, raw: str) -> None:
        anchor_match = _ANCHOR.search(raw)
        text = clean_inline(raw[: anchor_match.start()] if anchor_match else raw).strip()
        text = text.strip("*_ ").strip()
        anchor = anchor_match.group(1) if anchor_match else self._slug(text)
        self.outline.heading(level, text, anchor, "\n".join(self.lines))
        self.lines = []

    def _slug(self, text: str) -> str:
        """GitHub's heading ids (Hugo's and Docusaurus' default): duplicates get -1, -2, ..."""
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        seen = self.slugs.get(slug)
        self.slugs[slug] = 0 if seen is None else seen + 1
        return slug if seen is None else f"{slug}-{seen + 1}"


def _without_comments(text: str) -> str:
    """HTML comments and the insides of <style> and <script> blocks gone."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    return re.sub(r"<(style|script)\b[^>]*>.*?</\1\s*>", "", text, flags=re.DOTALL | re.I)


def clean_inline(line: str) -> str:
    """A line of Markdown as a reader sees it (code spans left as they are)."""
    parts = _CODE_SPAN.split(line)
    # split() with the span's two groups yields: text, ticks, code, text, ticks, code, ...
    out: list[str] = []
    for index, part in enumerate(parts):
        kind = index % 3
        if kind == 0:
            out.append(_clean_text(part))
        elif kind == 2:
            out.append(f"`{part}`")
    return "".join(out)


def _clean_text(text: str) -> str:
    text = _SHORTCODE.sub(_shown, text)
    text = _MDX_COMMENT.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    return html.unescape(text)


def _shown(match: re.Match[str]) -> str:
    shown = _SHOWN_ATTRIBUTE.search(match.group(1))
    return shown.group(1) if shown else ""
