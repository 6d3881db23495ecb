"""Runtime difficulty scoring: a small logistic regression over hashed words, hand features and
a naive-Bayes guess of the question's subject (`analyzer_subject`).

Pure Python on purpose: importing numpy would cost more than scoring a thousand queries.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import json
import operator
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from routing.analyzer.features import DENSE_NAMES, MAX_CHARS, Features, extract
from routing.analyzer.subject import SubjectModel

MODEL_PATH = Path(__file__).with_name("model.json")

# How much a hard thread lifts a terse follow-up: the previous message counts fully, each
# older one a little less, and only the recent window is looked at (bounded cost).
THREAD_DECAY = 0.85
THREAD_WINDOW = 6
FOLLOWUP_MAX_WORDS = 8
# A full message in a hard thread still leans on that thread, but less than "why?" does.
LONG_MESSAGE_THREAD_WEIGHT = 0.5
ACK_CAP = 0.05


@dataclass(frozen=True)
class Analysis:
    score: float
    reasons: tuple[str, ...]


class Scorer(Protocol):
    """What routing needs from a scorer: QueryAnalyzer and routing.learning.TunedAnalyzer.
    `retrieval`: the knowledge base's confidence for the question (None: not searched)."""

    def score(
        self, text: str, thread_context: Sequence[str] = (), retrieval: float | None = None
    ) -> Analysis: ...


# A deployment's correction of the message's own score: (features, score) -> (new score, reason
# or None). routing.learning builds these from a deployment's labelled traffic.
Adjustment = Callable[[Features, float], tuple[float, str | None]]


def _calibrate(logit: float, knots: Sequence[float]) -> float:
    """Share of benchmark prompts (training part) with a lower logit, interpolated."""
    i = bisect.bisect_right(knots, logit)
    if i == 0:
        return 0.0
    if i == len(knots):
        return 1.0
    low, high = knots[i - 1], knots[i]
    fraction = (logit - low) / (high - low) if high > low else 0.0
    return (i - 1 + fraction) / (len(knots) - 1)


def _own_reasons(feats: Features) -> list[str]:
    d = dict(zip(DENSE_NAMES, feats.dense, strict=True))
    reasons = []
    if d["stack_trace"]:
        reasons.append("contains a stack trace")
    if d["error_code"]:
        reasons.append("mentions an error code")
    if d["code_block"] or d["inline_code"]:
        reasons.append("contains code")
    if feats.n_words > 60 and (d["multi_question"] or d["enumerated_parts"]):
        reasons.append("long multi-part question")
    elif feats.n_words > 60:
        reasons.append("long message")
    elif d["multi_question"]:
        reasons.append("asks several questions")
    if d["reasoning_verbs"]:
        reasons.append("asks for reasoning (explain/compare/debug)")
    if d["math"] >= 0.1 or d["digits"] >= 0.25:
        reasons.append("involves numbers or maths")
    if d["non_ascii"] >= 0.3:
        reasons.append("largely non-Latin text")
    if d["symptom_cues"] >= 0.5 and feats.n_words >= 10:
        reasons.append("multi-symptom troubleshooting")
    if d["tech_topic"] > 0 and not d["short_faq"]:
        reasons.append("mentions an integration/security topic")
    if d["short_faq"]:
        reasons.append("short FAQ-style question")
    return reasons


class QueryAnalyzer:
    """Scores how much a message needs a strong model; see docs/routing.md."""

    def __init__(
        self,
        bias: float,
        dense: Sequence[float],
        hashed: Sequence[float],
        calibration: Sequence[float],
        subject: SubjectModel | None = None,
        subject_weight: float = 0.0,
        fingerprint: str = "",
    ) -> None:
        if len(dense) != len(DENSE_NAMES):
            raise ValueError(f"model has {len(dense)} dense weights, expected {len(DENSE_NAMES)}")
        self._bias = bias
        self._dense = tuple(dense)
        # 8 bytes a weight instead of a float object each (16,384 of them).
        self._hashed = array("d", hashed)
        self._knots = tuple(calibration)
        self._subject = subject
        self._subject_weight = subject_weight
        self.fingerprint = fingerprint
        self._adjust: Adjustment | None = None
        if len(self._knots) < 2 or list(self._knots) != sorted(self._knots):
            raise ValueError("calibration needs at least two ascending knots")
        # Thread history is rescored on every message of a thread; cache short texts only so a
        # long paste cannot pin memory.
        self._history_score = lru_cache(maxsize=4096)(self._raw_score)

    @classmethod
    def load(cls, path: Path | None = None) -> QueryAnalyzer:
        data = (path or MODEL_PATH).read_bytes()
        # Identifies the weights a deployment correction was fitted against.
        return cls.from_json(json.loads(data), hashlib.sha256(data).hexdigest()[:16])

    @classmethod
    def from_json(cls, raw: dict[str, Any], fingerprint: str = "") -> QueryAnalyzer:
        hashed = [0.0] * int(raw["n_buckets"])
        for index, weight in raw["hashed"].items():
            hashed[int(index)] = float(weight)
        dense = [float(raw["dense"][name]) for name in DENSE_NAMES]
        knots = [float(k) for k in raw["calibration"]]
        subject = SubjectModel.from_json(raw["subject"]) if "subject" in raw else None
        weight = float(raw.get("subject_weight", 0.0))
        return cls(float(raw["bias"]), dense, hashed, knots, subject, weight, fingerprint)

    def adjusted(self, adjust: Adjustment) -> QueryAnalyzer:
        """This analyzer with `adjust` applied to every message's own score (weights shared)."""
        clone = copy.copy(self)
        clone._adjust = adjust
        clone._history_score = lru_cache(maxsize=4096)(clone._raw_score)
        return clone

    def _logit(self, feats: Features) -> float:
        # map() over C-level callables: about half the cost of the equivalent generators.
        hashed = sum(map(self._hashed.__getitem__, feats.buckets)) * feats.hashed_value
        dense: float = sum(map(operator.mul, self._dense, feats.dense))
        logit = self._bias + hashed + dense
        if self._subject is not None:
            logit += self._subject_weight * self._subject.rate_logit(feats.words)
        return logit

    def _difficulty(self, feats: Features) -> float:
        return _calibrate(self._logit(feats), self._knots)

    def difficulty(self, text: str) -> float:
        """The message's own score from the shipped weights: no thread, no adjustment."""
        feats = extract(text)
        return 0.0 if feats.empty else self._difficulty(feats)

    def _raw_score(self, text: str) -> float:
        feats = extract(text)
        if feats.empty:
            return 0.0
        if feats.acknowledgement:
            return min(self._difficulty(feats), ACK_CAP)
        own = self._difficulty(feats)
        return self._adjust(feats, own)[0] if self._adjust else own

    def _thread_score(self, thread_context: Sequence[str]) -> float:
        best = 0.0
        recent = list(thread_context[-THREAD_WINDOW:])
        for distance, message in enumerate(reversed(recent)):
            score = (
                self._history_score(message)
                if len(message) <= MAX_CHARS
                else self._raw_score(message)
            )
            best = max(best, score * THREAD_DECAY**distance)
        return best

    def score(
        self, text: str, thread_context: Sequence[str] = (), retrieval: float | None = None
    ) -> Analysis:
        """`retrieval` is ignored: the shipped analyzer has no hand-set discount for questions
        the docs answer; a tuned version learns that weight from the deployment's labels."""
        feats = extract(text)
        if feats.empty:
            return Analysis(0.0, ("empty message",))
        own = self._difficulty(feats)
        if feats.acknowledgement:
            return Analysis(min(own, ACK_CAP), ("acknowledgement, nothing to answer",))
        reasons = _own_reasons(feats)
        if self._adjust is not None:
            own, note = self._adjust(feats, own)
            if note:
                reasons.insert(0, note)
        score = own
        if thread_context:
            thread = self._thread_score(thread_context)
            terse = feats.n_words <= FOLLOWUP_MAX_WORDS
            lifted = thread if terse else thread * LONG_MESSAGE_THREAD_WEIGHT
            if lifted > own:
                score = lifted
                hard = thread >= 0.5
                label = "follow-up in a hard thread" if hard else "follow-up in an easy thread"
                reasons.insert(0, label)
        if not reasons:
            if feats.n_words <= 12:
                reasons.append("short question")
            hard_words = score >= 0.5
            reasons.append(
                "wording resembles hard questions"
                if hard_words
                else "wording resembles simple questions"
            )
        return Analysis(min(max(score, 0.0), 1.0), tuple(reasons[:4]))
