"""Knowledge bases of any size for bench/bench_kb.py, built from real text (`--corpus`):

- `man` (the default): Mastodon's docs (../shared/data/kb/mastodon-docs, each page once, so the
  labelled questions can be scored), then this machine's manual pages (/usr/share/man, in a
  seeded random order, at most 100 of one family such as `git-*`, turned from troff into
  Markdown) until the size is reached: 48,000 passages of real, topically coherent help text
  on other subjects, as a large help centre holds pages that are not about the question.
- `copies`: each document is one of Mastodon's pages rewritten: its title and headings with
  made-up words of the document's own (a product's feature names), each passage's sentences
  shuffled and one in five replaced by a sentence of another passage of the same page. Every
  page is there some 20 times over, so a word's best passages are copies of the same few: a
  harsh case for reading only each word's best postings.
- `mixed` (the first version of this bench, and the indexing corpus): each document's ~1 KB
  sections are nine sentences drawn from the whole help centre under a random heading: every
  passage mixes topics, so a question's words meet in many passages by chance, and passages are
  longer and use more distinct words than real ones (more postings to write).
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Iterator
from pathlib import Path

from bot.knowledge.parsing import parse_page

ROOT = Path(__file__).resolve().parents[1]
MASTODON = ROOT.parent / "shared" / "data" / "kb" / "mastodon-docs"
MANUALS = Path("/usr/share/man")
CORPORA = ("man", "copies", "mixed")
FAMILY = 100  # manual pages of one family at most (gcloud's 16,600 would be most of them)
Real = tuple[str, str, list[tuple[tuple[str, ...], str]]]  # a page's name, title, passages


def documents(corpus: str, seed: int = 7) -> Iterator[tuple[str, str]]:
    """(name, Markdown text) of the corpus's documents, as many as are taken."""
    rng = random.Random(seed)
    if corpus == "man":
        for path in sorted(MASTODON.rglob("*.md")):
            yield path.relative_to(MASTODON).as_posix(), path.read_text()
        families: dict[str, list[Path]] = {}
        for path in sorted(p for p in MANUALS.glob("man[1-8]/*") if p.is_file()):
            families.setdefault(re.split(r"[_.-]", path.name)[0].lower(), []).append(path)
        manuals = [path for paths in families.values() for path in paths[:FAMILY]]
        rng.shuffle(manuals)
        for path in manuals:
            yield f"man/{path.parent.name}/{path.name}.md", man_markdown(path)
        return
    pages = real_pages()
    sentences, headings = pool()
    n = 0
    while True:
        if corpus == "copies":
            yield copy(n, rng, pages)
        else:
            yield f"gen/{n}.md", mixed(n, 25, rng, sentences, headings)
        n += 1


def page_of(name: str) -> str:
    """The real page a document is (a copy of)."""
    return name.split("/", 1)[1] if name.startswith("copy") else name


def real_pages() -> list[Real]:
    pages = []
    for path in sorted(MASTODON.rglob("*.md")):
        name = path.relative_to(MASTODON).as_posix()
        page = parse_page(path.read_text(), path=str(path), name=name)
        if page.passages:
            pages.append((name, page.title, [(p.headings, p.text) for p in page.passages]))
    return pages


def pool() -> tuple[list[str], list[str]]:
    """Sentences and headings of the real docs, to build documents from."""
    sentences: list[str] = []
    headings: list[str] = []
    for _, _, passages in real_pages():
        for found, text in passages:
            headings.extend(found)
            sentences.extend(s.strip() for s in text.split(". ") if len(s.strip()) > 30)
    return sentences, sorted(set(headings))


def made_up(rng: random.Random) -> str:
    """A word of no language, as a product's own names are."""
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))


def copy(n: int, rng: random.Random, pages: list[Real]) -> tuple[str, str]:
    """One real page rewritten, named `copy<n>/` and the real page's name."""
    name, title, passages = rng.choice(pages)
    own = [made_up(rng) for _ in range(2)]
    everything = [s for _, text in passages for s in text.split(". ")]
    parts = [f"---\ntitle: {title} {own[0]}\ndescription: page {n}\n---\n"]
    for i, (headings, text) in enumerate(passages):
        sentences = [rng.choice(everything) if rng.random() < 0.2 else s
                     for s in text.split(". ")]  # fmt: skip
        rng.shuffle(sentences)
        heading = f"{headings[-1] if headings else title} {rng.choice(own)}"
        parts.append(f"## {heading} {{#s{i}}}\n\n{'. '.join(sentences)}\n")
    return f"copy{n}/{name}", "\n".join(parts)


def mixed(n: int, sections: int, rng: random.Random, sentences: list[str],
          headings: list[str]) -> str:  # fmt: skip
    """A page of `sections` sections mixing the whole help centre."""
    parts = [f"---\ntitle: {rng.choice(headings)} {n}\ndescription: generated page {n}\n---\n"]
    for s in range(sections):
        body = ". ".join(rng.choice(sentences) for _ in range(9))[:1100]
        parts.append(f"## {rng.choice(headings)} {s} {{#s{s}}}\n\n{body}.\n")
    return "\n".join(parts)


# troff's font, size and character escapes (\fB, \f(CW, \(em, \*(lq, \&, ...)
_ESCAPES = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)|\\\(..|\\\*(?:\(..|\[[^\]]*\]|.)|\\[,/&|^%:]")
_TEXT_MACROS = frozenset(("B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "SM"))
_BREAKS = frozenset(("PP", "P", "LP", "TP", "IP", "sp", "br"))


def man_markdown(path: Path) -> str:
    """A manual page's text as Markdown: its name as the title, `.SH`/`.SS` as headings, text
    macros as text, the rest of troff's requests dropped."""
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8", "replace")
    out, title = [], path.name.split(".")[0]
    for line in text.splitlines():
        if line.startswith(('.\\"', "'\\\"")):
            continue
        line = _ESCAPES.sub("", line).replace("\\-", "-").replace("\\e", "\\")
        if line.startswith("."):
            macro, _, rest = line[1:].partition(" ")
            rest = rest.replace('"', "").strip()
            if macro in ("SH", "SS"):
                out.append(f"\n{'#' * (2 if macro == 'SH' else 3)} {rest.capitalize()}\n")
            elif macro in _TEXT_MACROS:
                out.append(rest)
            elif macro in _BREAKS:
                out.append("")
            continue
        out.append(line)
    return f"# {title}\n" + "\n".join(out)
