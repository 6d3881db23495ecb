"""The support lead's view of the knowledge base: how many questions the docs answered, which
pages answers cite most, and the content gaps: the questions no page covered, grouped by the
word they share most, so that a person reads "12 questions about refunds" rather than a list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.knowledge.query import analyze
from storage.knowledge_answers import KnowledgeUse
from storage.knowledge_stemming import stem
from storage.knowledge_words import words

EXAMPLES = 3


@dataclass(frozen=True)
class Gap:
    topic: str  # the word the questions share ("" for questions with no content word)
    questions: int
    examples: tuple[str, ...]


def group_gaps(texts: Sequence[str], limit: int = 10) -> list[Gap]:
    """The questions grouped greedily by the stem most of them share, largest group first; a
    group is named by the words all its questions share."""
    stems: list[set[str]] = []
    shown: dict[str, Counter[str]] = {}
    for text in texts:
        content = {g.word for g in analyze(text, synonyms=False) if " " not in g.word}
        mine = set()
        for word in content:
            if len(word) > 2 and not word.isdigit():
                mine.add(stem(word))
                shown.setdefault(stem(word), Counter())[word] += 1
        stems.append(mine)
    left = set(range(len(texts)))
    found: list[Gap] = []
    while left and len(found) < limit:
        counts = Counter(s for i in left for s in stems[i])
        if not counts:
            break
        topic, _ = min(counts.items(), key=lambda item: (-item[1], item[0]))
        members = sorted(i for i in left if topic in stems[i])
        left -= set(members)
        shared = set.intersection(*(stems[i] for i in members))  # "status page", not "page"
        order = [stem(w) for w in words(texts[members[0]])]
        ordered = sorted(shared, key=lambda s: order.index(s) if s in order else len(order))
        label = " ".join(shown[s].most_common(1)[0][0] for s in ordered[:3])
        found.append(Gap(label, len(members), tuple(texts[i] for i in members[:EXAMPLES])))
    if left and len(found) < limit:
        rest = sorted(left)
        found.append(Gap("", len(rest), tuple(texts[i] for i in rest[:EXAMPLES])))
    return found


def summary_lines(use: KnowledgeUse, gaps: Sequence[Gap], pages: int = 3) -> list[str]:
    """A few lines for the digest and `kb gaps`."""
    if not use.questions:
        return []
    share = use.cited * 100 / use.questions
    lines = [
        f"Answered from the docs: {use.cited:,} of {use.questions:,} questions ({share:.0f}%); "
        f"{use.uncovered:,} from general knowledge, {use.handed_off:,} handed off"
    ]
    if use.pages:
        cited = ", ".join(f"{p.title} ({p.citations:,})" for p in use.pages[:pages])
        lines.append(f"Most cited: {cited}")
    if gaps:
        lines.append("Content gaps: " + "; ".join(gap_words(g) for g in gaps[:pages]))
    return lines


def gap_words(gap: Gap) -> str:
    about = f"about “{gap.topic}”" if gap.topic else "on other topics"
    return f"{gap.questions:,} question{'s' if gap.questions != 1 else ''} {about}, no document"
