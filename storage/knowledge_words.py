"""Words as the search index sees them: lower case, accents folded, split at anything that is
not a letter or digit (SQLite FTS5's unicode61 tokenizer does the same), and the English words
too common to say what a question is about."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
# The blocks of combining marks (accents) that NFKD splits off letters.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

_STOP = """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just let me might more most must my myself no nor not now of off on once only or
    other our ours ourselves out over own same shall she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours
    yourself yourselves hi hello hey thanks thank please pls plz anyone someone somebody know
    get got getting want wanted trying tried need needs way ok okay also still really already
    t s don doesn didn isn aren wasn weren won wouldn shouldn couldn cant dont doesnt didnt im
    ive id thats whats hows"""
STOP_WORDS = frozenset(_STOP.split())


def fold(text: str) -> str:
    """Lower case without accents ("Café" -> "cafe")."""
    if text.isascii():  # nearly always: nothing to fold
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower()))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def content_words(text: str) -> list[str]:
    """The words that say what `text` is about, in order, each once."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOP_WORDS))
