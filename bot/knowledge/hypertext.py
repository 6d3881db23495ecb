"""An HTML page to sections: headings h1-h6 start sections, the page's text is kept, what is not
content (scripts, styles, navigation, headers, footers, forms) is dropped. The title is the
page's <title>, else its first <h1>."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.knowledge.sections import Outline, Section

_SKIPPED = frozenset({"script", "style", "nav", "header", "footer", "noscript", "template",
                      "svg", "form", "button", "select", "iframe", "aside"})  # fmt: skip
_BLOCKS = frozenset({"p", "div", "li", "tr", "br", "pre", "blockquote", "section", "article",
                     "table", "ul", "ol", "dl", "dt", "dd", "hr", "details", "summary", "main",
                     "figcaption"})  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "col"})
_HEADING = re.compile(r"^h([1-6])$")


def html_sections(page: str) -> tuple[str, str, list[Section]]:
    """(the page's title, its meta description, its sections in order)."""
    reader = _Reader()
    reader.feed(page)
    reader.close()
    reader.outline.end(reader.collected())
    title = reader.title.strip() or reader.outline.first_h1
    return title, reader.description, reader.outline.sections


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.description = ""
        self.outline = Outline()
        self.text: list[str] = []
        self.skipping: list[str] = []
        self.in_title = False
        self.heading: tuple[int, str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if self.skipping:
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _SKIPPED:
            self.skipping.append(tag)
        elif tag == "title":
            self.in_title = True
        elif tag == "meta" and values.get("name", "").lower() == "description":
            self.description = values.get("content", "").strip()
        elif (match := _HEADING.match(tag)) is not None:
            self.heading = (int(match.group(1)), values.get("id", ""), [])
        elif tag in _BLOCKS:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag == "title":
            self.in_title = False
        elif _HEADING.match(tag) and self.heading is not None:
            level, anchor, parts = self.heading
            self.outline.heading(level, " ".join("".join(parts).split()), anchor, self.collected())
            self.heading = None
        elif tag in _BLOCKS:
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.in_title:
            self.title += data
        elif self.heading is not None:
            self.heading[2].append(data)
        else:
            self.text.append(data)

    def collected(self) -> str:
        """The text since the last heading, one line per block."""
        lines = (" ".join(line.split()) for line in "".join(self.text).splitlines())
        self.text = []
        return "\n".join(lines)
