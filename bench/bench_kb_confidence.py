"""Which signal says best that the docs don't answer a question: the candidates compared.

Run: .venv/bin/python bench/bench_kb_confidence.py [--docs ../shared/data/kb/mastodon-docs]

Indexes the documents in a temporary SQLite file (PostgreSQL finds the same candidates: one
SQL; bench_kb_quality.py shows the shipped signals on both), searches every question of both
labelled sets with the shipped options, and computes each signal from the same ranked
passages. Per signal: its AUC on each set's dev and held-out half (the chance that an
answerable question scores above an unanswerable one), then a threshold chosen on the dev
halves together (the most questions right) and, per set and half, unanswerable questions
caught / answerable ones wrongly refused.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_kb_quality import SETS, Question, auc, index, load, on_docs  # noqa: E402

from bot.knowledge.query import Group  # noqa: E402
from bot.knowledge.ranking import Scored, rank  # noqa: E402
from bot.knowledge.retrieval import KnowledgeBase  # noqa: E402
from storage.knowledge_stemming import stem  # noqa: E402
from storage.knowledge_words import words  # noqa: E402

WINDOW = 8  # words: "near each other"


@dataclass(frozen=True)
class Asked:
    question: Question
    groups: tuple[Group, ...]
    idf: tuple[float, ...]
    ranked: list[Scored]


def _stems(scored: Scored) -> list[str]:
    m = scored.match
    return m.stems.split() if m.stems else [stem(w) for w in words(m.text)]


def _heads(scored: Scored) -> set[str]:
    m = scored.match
    return {stem(w) for w in words(" ".join((m.title, *m.headings)))}


def _in(alternatives: tuple[tuple[str, ...], ...], stems: set[str]) -> bool:
    return any(alt and all(s in stems for s in alt) for alt in alternatives)


def coverage(a: Asked) -> float:
    return a.ranked[0].coverage if a.ranked else 0.0


def strength(a: Asked) -> float:
    return a.ranked[0].strength if a.ranked else 0.0


def weighted(power: float) -> Callable[[Asked], float]:
    """The share of the words found in the best passage, each weighing idf ** power."""

    def signal(a: Asked) -> float:
        if not a.ranked:
            return 0.0
        found = set(_stems(a.ranked[0])) | _heads(a.ranked[0])
        weights = [i**power for i in a.idf]
        hits = [w for w, g in zip(weights, a.groups, strict=True) if _in(g.stems, found)]
        return sum(hits) / (sum(weights) or 1.0)

    return signal


def near(a: Asked) -> float:
    """The share of the words (idf) in the best passage's headings or within WINDOW words of
    each other in its text: the words together, not anywhere."""
    if not a.ranked:
        return 0.0
    tokens, heads = _stems(a.ranked[0]), _heads(a.ranked[0])
    base, events = 0.0, []
    for g, (group, idf) in enumerate(zip(a.groups, a.idf, strict=True)):
        if _in(group.stems, heads):
            base += idf
            continue
        firsts = {alt[0] for alt in group.stems if alt}
        events += [(p, g) for p, t in enumerate(tokens) if t in firsts]
    events.sort()
    best = current = 0.0
    inside: Counter[int] = Counter()
    start = 0
    for p, g in events:
        current += a.idf[g] if not inside[g] else 0.0
        inside[g] += 1
        while events[start][0] < p - WINDOW:
            old = events[start][1]
            inside[old] -= 1
            current -= a.idf[old] if not inside[old] else 0.0
            start += 1
        best = max(best, current)
    return (base + best) / (sum(a.idf) or 1.0)


def headings(a: Asked) -> float:
    """The share of the words (idf) in the best passage's title and headings."""
    if not a.ranked:
        return 0.0
    heads = _heads(a.ranked[0])
    hits = [i for i, g in zip(a.idf, a.groups, strict=True) if _in(g.stems, heads)]
    return sum(hits) / (sum(a.idf) or 1.0)


def gap(a: Asked) -> float:
    """How far the best passage scores above the next one (0: a tie)."""
    if len(a.ranked) < 2:
        return 1.0 if a.ranked else 0.0
    return 1 - a.ranked[1].score / a.ranked[0].score


def one_page(a: Asked) -> float:
    """The best page's share of the top five passages' scores."""
    top = a.ranked[:5]
    if not top:
        return 0.0
    page = top[0].match.document_id
    return sum(s.score for s in top if s.match.document_id == page) / sum(s.score for s in top)


def prose(a: Asked) -> float:
    """The best passage's share of letters and spaces: a JSON or code sample scores less."""
    if not a.ranked:
        return 0.0
    text = a.ranked[0].match.text.strip() or " "
    return sum(c.isalpha() or c.isspace() for c in text) / len(text)


SIGNALS: dict[str, Callable[[Asked], float]] = {
    "coverage: share of the words (idf) found (before)": coverage,
    "coverage, idf squared": weighted(2.0),
    f"words together: in a heading or within {WINDOW} words": near,
    "share of the words in the title and headings": headings,
    "gap between the best passage and the next": gap,
    "the best page's share of the top five": one_page,
    "words together x strength": lambda a: near(a) * strength(a),
    "coverage x strength": lambda a: coverage(a) * strength(a),
    "strength x the passage's share of letters (code counts less)": lambda a: (
        prose(a) * strength(a)
    ),
    "strength: BM25F over a title with every word (shipped)": strength,
}


def report(name: str, signal: Callable[[Asked], float], asked: list[Asked]) -> str:
    scored = [(a.question, signal(a)) for a in asked]
    dev = [(bool(q.needs), v) for q, v in scored if q.split == "dev"]
    values = sorted({v for _, v in dev} | {0.0})
    best = max(values, key=lambda t: (sum((v >= t) == ok for ok, v in dev), -t))
    lower = max([v for v in values if v < best], default=0.0)
    chosen = (lower + best) / 2
    aucs, cells = [], []
    for name_ in SETS:
        for split in ("dev", "held-out"):
            pairs = [(bool(q.needs), v) for q, v in scored if q.set == name_ and q.split == split]
            aucs.append(f"{auc(pairs):.2f}")
            no = [v for ok, v in pairs if not ok]
            yes = [v for ok, v in pairs if ok]
            cells.append(f"{sum(v < chosen for v in no)}/{len(no)} "
                         f"{sum(v < chosen for v in yes)}/{len(yes)}")  # fmt: skip
    return f"| {name} | " + " | ".join(aucs) + f" | {chosen:.3f} | " + " | ".join(cells) + " |"


async def run(docs: Path) -> None:
    questions = [q for name in SETS for q in load(ROOT / "bench/data" / name)]
    with tempfile.TemporaryDirectory() as folder:
        store, _ = await index(f"sqlite+aiosqlite:///{folder}/kb.db", docs, None)
        kb = KnowledgeBase(store)
        asked = []
        for q in questions:
            matched = await kb.matched(q.text, None, kb.options.candidates)
            ranked, _ = rank(matched.matches, matched.groups, matched.documents)
            idf = tuple(g.idf(max(matched.documents, 1)) for g in matched.groups)
            asked.append(Asked(q, matched.groups, idf, ranked))
        await store.close()
        await store.db.dispose()
    halves = " | ".join(f"{n.split('.')[0]} {s}" for n in SETS for s in ("dev", "held-out"))
    print(f"| signal | AUC {halves} | threshold | caught, refused: {halves} |")
    print("|---" * 10 + "|")
    for name, signal in SIGNALS.items():
        print(report(name, signal, asked))


def main() -> None:
    on_docs(__doc__.split("\n")[0], run)


if __name__ == "__main__":
    main()
