"""Feature extraction for the query analyzer.

Runtime scoring and training both call `extract`, so the features a model was trained on are
exactly the ones it sees in production. Pure Python (no numpy) so the hot path stays cheap.
"""

from __future__ import annotations

import math
import operator
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

from routing.analyzer.lexicon import (
    ACK_WORDS,
    FAQ_WORDS,
    REASONING_VERBS,
    STEP_CUES,
    SYMPTOM_CUES,
    TECH_TOPICS,
)

# Work is bounded by these caps, whatever the input: a 200,000-char paste costs the same as a
# 1,500-char one. The original length still feeds the length feature.
MAX_CHARS = 1500
MAX_TOKENS = 160
MAX_TOKEN_LEN = 32
N_BUCKETS = 1 << 14
# The subject model reads only the opening words: the topic shows early, and long passages
# would otherwise dominate its run time.
SUBJECT_TOKENS = 48

_TOKEN = re.compile(r"[^\W_]+")
_CODE_BLOCK = re.compile(r"```|^(?: {4}|\t)\S", re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]{1,200}`")
# Each pattern starts from a literal anchor so the scan stays linear and cheap on 1,500 chars.
_STACK_TRACE = re.compile(
    r"Traceback \(most recent call last\)|(?:Exception|Error)(?::|\s+at\b)"
    r"|^[ \t]*at [\w$.<>]+\(|error(?:\[\w+\])?:|panicked at|Segmentation fault|core dumped"
    r"|^[ \t]*File \"[^\"\n]+\", line \d+",
    re.MULTILINE,
)
# Error codes are found from their digits backwards: scanning for a letter prefix at every word
# boundary costs ~10x more on long prose.
_DIGIT_RUN = re.compile(r"\d{2,}\b")
_CODE_PREFIX = re.compile(
    r"(?:(?<![A-Za-z])(?:[A-Z]{2,5} |[A-Z]{1,5}[-_]?)"
    r"|(?i:(?:error|status|code|errno)\s*(?:code\s*)?[:=]?\s*-?))$"
)
_HEX = re.compile(r"\b0x[0-9A-Fa-f]{4,}\b")
MAX_DIGIT_RUNS = 20
# [ \t]* rather than \s*: \s* also eats newlines, which made a wall of blank lines quadratic.
_ENUMERATED = re.compile(r"^[ \t]*(?:[A-Za-z]|\d{1,2})[.)]\s+\S", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_LATEX_MATH = ("\\frac", "\\sqrt", "\\sum", "\\int")
_SLASH_FRACTION = re.compile(r"\d/\d")
_FRACTION_WORDS = frozenset(["half", "halves", "third", "thirds", "quarter", "percent"])


DENSE_NAMES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "log_lines",
    "question_marks",
    "multi_question",
    "code_block",
    "inline_code",
    "code_symbols",
    "stack_trace",
    "error_code",
    "enumerated_parts",
    "digits",
    "math",
    "non_ascii",
    "reasoning_verbs",
    "short_faq",
    "numbers",
    "sentences",
    "step_cues",
    "fractions",
    "magnitude",
    "tech_topic",
    "symptom_cues",
)


@dataclass(frozen=True)
class Features:
    """Sparse hashed word/bigram buckets (each weighted `hashed_value`) plus dense hand features.

    `words` are the distinct unigram buckets, which the subject model reads.
    """

    buckets: tuple[int, ...]
    words: tuple[int, ...]
    hashed_value: float
    dense: tuple[float, ...]
    n_words: int
    empty: bool
    acknowledgement: bool
    tokens: tuple[str, ...] = ()  # the word tokens themselves (a deployment correction reads them)


def is_acknowledgement(words: list[str], body: str) -> bool:
    if not words:
        # Only emoji or punctuation: "👍" closes a thread, "???" asks to go on.
        return "?" not in body
    return len(words) <= 6 and all(w in ACK_WORDS for w in words) and "?" not in body


def clean(text: str, limit: int = MAX_CHARS) -> str:
    """Truncate first (bounded cost), then drop NULs and lone surrogates that break encoders."""
    head = text[:limit]
    if "\x00" in head:
        head = head.replace("\x00", " ")
    return head.encode("utf-8", "replace").decode("utf-8")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of already-cleaned text, capped in number and length."""
    words = _TOKEN.findall(text.lower(), 0, MAX_TOKENS * 12)[:MAX_TOKENS]
    return [w[:MAX_TOKEN_LEN] if len(w) > MAX_TOKEN_LEN else w for w in words]


def _hash(word: str) -> int:
    # crc32 rather than hash(): str hashing is salted per process, which would scramble weights.
    return zlib.crc32(word.encode("utf-8"))


_MASK = N_BUCKETS - 1  # N_BUCKETS is a power of two, so "% N_BUCKETS" == "& _MASK"


@lru_cache(maxsize=1 << 16)  # common words repeat across messages; bounded memory
def _word_keys(word: str) -> tuple[int, int]:
    """(unigram bucket, left-hand bigram mix) of a word, both already reduced to the buckets.

    A bigram's bucket is ((a * 0x9E3779B1) ^ b ^ 0x5BD1E995) % N_BUCKETS for word hashes a, b;
    XOR commutes with the mask, so it equals left(a) ^ unigram(b) with these two parts.
    """
    h = _hash(word)
    return h & _MASK, ((h * 0x9E3779B1) ^ 0x5BD1E995) & _MASK


def buckets_of(words: list[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(unigram + bigram buckets, unigram buckets of the first SUBJECT_TOKENS words)."""
    if not words:
        return (), ()
    # zip(*) and map(xor) run in C: no Python-level step per word or per pair.
    uni, left = zip(*map(_word_keys, words), strict=True)
    unigrams = set(uni)
    found = set(unigrams)
    found.update(map(operator.xor, left[:-1], uni[1:]))
    head = unigrams if len(uni) <= SUBJECT_TOKENS else set(uni[:SUBJECT_TOKENS])
    # Unsorted on purpose: order does not change the sums, and sorting cost ~10 us per message.
    return tuple(found), tuple(head)


def _has_error_code(body: str) -> bool:
    for i, run in enumerate(_DIGIT_RUN.finditer(body)):
        if i >= MAX_DIGIT_RUNS:
            break
        if _CODE_PREFIX.search(body, max(0, run.start() - 16), run.start()):
            return True
    return "0x" in body and _HEX.search(body) is not None


# Every alternative of _STACK_TRACE contains one of these literals ("at x.y(" needs "at " and
# "("), so prose without them skips the regex scan, the slowest step on long messages.
_TRACE_LITERALS = (
    "Error",
    "Exception",
    "error",
    "Traceback",
    "panicked",
    "Segmentation",
    "core dumped",
    'File "',
)


def _has_stack_trace(body: str) -> bool:
    if not any(lit in body for lit in _TRACE_LITERALS) and not ("at " in body and "(" in body):
        return False
    return _STACK_TRACE.search(body) is not None


def _has_code_block(body: str) -> bool:
    # The regex needs a fence, 4 spaces or a tab; checking for them first skips most prose.
    if "```" not in body and "    " not in body and "\t" not in body:
        return False
    return _CODE_BLOCK.search(body) is not None


def _math_symbols(body: str) -> int:
    """Operators and LaTeX maths commands; str.count is far cheaper than a regex scan."""
    return sum(map(body.count, "=+*/^<>%")) + sum(map(body.count, _LATEX_MATH))


def _has_fraction(body: str, word_set: set[str]) -> bool:
    # Literal checks first: an unanchored regex alternation costs ~10x more on long prose.
    if "%" in body or not word_set.isdisjoint(_FRACTION_WORDS):
        return True
    return "/" in body and _SLASH_FRACTION.search(body) is not None


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def extract(text: str) -> Features:
    """Features of one message. Bounded time for any input string."""
    body = clean(text)
    words = tokens(body)
    n_chars = len(body)
    buckets, unigrams = buckets_of(words)
    hashed_value = 1.0 / math.sqrt(len(buckets)) if buckets else 0.0

    questions = body.count("?")
    word_set = set(words)
    n_digits = sum(map(body.count, "0123456789"))
    n_non_ascii = n_chars - len(body.encode("ascii", "ignore"))
    n_code_symbols = sum(map(body.count, "{}();[]"))
    # Length uses the untruncated size so a huge paste still reads as long.
    # Quantities from the word tokens ("1,000" counts as two): a regex scan of the body cost
    # several times more on long prompts.
    numbers = [w for w in words if w.isdigit()] if n_digits else []
    widest = max(map(len, numbers), default=0)
    total_chars = min(len(text), 10**6)
    n_words = len(words) if len(text) <= MAX_CHARS else max(len(words), total_chars // 6)
    dense = (
        math.log1p(total_chars) / 10.0,
        math.log1p(n_words) / 7.0,
        math.log1p(body.count("\n")) / 5.0,
        min(questions, 5) / 5.0,
        1.0 if questions >= 2 else 0.0,
        1.0 if _has_code_block(body) else 0.0,
        1.0 if _INLINE_CODE.search(body) else 0.0,
        min(_share(n_code_symbols, n_chars) * 10.0, 1.0),
        1.0 if _has_stack_trace(body) else 0.0,
        1.0 if n_digits >= 2 and _has_error_code(body) else 0.0,
        min(len(_ENUMERATED.findall(body)), 8) / 8.0,
        min(_share(n_digits, n_chars) * 5.0, 1.0),
        min(_math_symbols(body), 20) / 20.0,
        _share(n_non_ascii, n_chars),
        min(len(word_set & REASONING_VERBS), 3) / 3.0,
        1.0 if n_words <= 12 and word_set & FAQ_WORDS else 0.0,
        min(len(numbers), 20) / 20.0,
        min(len(_SENTENCE_END.findall(body)), 15) / 15.0,
        min(sum(map(STEP_CUES.__contains__, words)), 10) / 10.0,
        1.0 if _has_fraction(body, word_set) else 0.0,
        min(widest, 8) / 8.0,
        min(len(word_set & TECH_TOPICS), 4) / 4.0,
        min(len(word_set & SYMPTOM_CUES), 4) / 4.0,
    )
    return Features(
        buckets=buckets,
        words=unigrams,
        hashed_value=hashed_value,
        dense=dense,
        n_words=n_words,
        empty=not words and not body.strip(),
        acknowledgement=n_words <= 6 and is_acknowledgement(words, body),
        tokens=tuple(words),
    )
