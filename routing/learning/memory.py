"""A deployment's memory of judged questions, stacked on the shipped analyzer's score.

For a message with base score b (the shipped analyzer's own score), the judged questions most
like it (`neighbours.NeighbourIndex`: up to `k`, cosine above `floor`) each pull the score
towards their label y (1: needed premium, 0: a cheaper tier did as well), with weight

    w = label weight x cosine ** 2

and the base score keeps a fixed weight `prior`:

    score = (sum(w * y ** label_power) + prior * b) / (sum(w) + prior)

A judged label is premium's lead in judge points / 3, so a lead of one point (0.33), mostly the
judge's own noise, pulls as 0.11 and a lead of two (0.67) as 0.44 (`label_power` 2; user
signals are 0 or 1 and pull as they are). Measured in docs/routing.md.

A message like nothing judged keeps its base score exactly; a rewording of a judged question
follows its judgement. Lowering a score risks answer quality while raising it only costs money,
so lowering also needs one judged question at least `lower_from` alike (a close rewording).
`retrieval_weight` is how the knowledge base's confidence moves the result (learned by `tune`,
`routing.learning.retrieval`; 0: not at all). Pure Python; `to_json` / `from_json` round-trip
exactly.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from routing.analyzer.features import Features
from routing.learning.lines import Lines
from routing.learning.neighbours import NeighbourIndex, normalised

FORMAT = "switchboard-memory/1"
# A reason is given only when the memory moved the score this much.
REASON_SHIFT = 0.1
_NUMBERS = ("prior", "floor", "lower_from", "retrieval_weight", "label_power")
# What a stored version without a number was measured with: versions from before retrieval-aware
# routing have no retrieval weight, those from before sharpened labels pull with their labels.
_STORED_BEFORE = {"retrieval_weight": 0.0, "label_power": 1.0}


@dataclass(frozen=True)
class Pull:
    """What the judged neighbours of one message say: label mass and weight, how many needed
    premium and how many did not, and the best cosine."""

    mass: float = 0.0
    weight: float = 0.0
    needed: int = 0
    fine: int = 0
    closest: float = 0.0

    def score(self, base: float, prior: float, lower_from: float) -> float:
        if self.weight <= 0.0:
            return base
        moved = (self.mass + prior * base) / (self.weight + prior)
        if moved < base and self.closest < lower_from:
            return base
        return min(max(moved, 0.0), 1.0)


@dataclass(frozen=True)
class Memory:
    texts: Sequence[str]  # normalised (neighbours.normalised); kept as `Lines`
    labels: tuple[float, ...]  # needs premium, 0..1
    weights: tuple[float, ...]  # how far each label is trusted
    prior: float = 0.003  # the base score's weight, in units of neighbour weight
    floor: float = 0.05  # cosine below which a question is not a neighbour
    lower_from: float = 0.5  # lowering needs a judged question at least this alike
    k: int = 20
    base_fingerprint: str = ""
    retrieval_weight: float = 0.0
    label_power: float = 2.0  # a label pulls as label ** label_power
    _index: NeighbourIndex = field(init=False, repr=False, compare=False)
    _labels: array[float] = field(init=False, repr=False, compare=False)  # as they pull
    _needed_from: float = field(init=False, repr=False, compare=False)
    _weights: array[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not len(self.texts) == len(self.labels) == len(self.weights):
            raise ValueError("one label and one weight per judged question are needed")
        if not isinstance(self.texts, Lines):
            object.__setattr__(self, "texts", Lines(self.texts))
        object.__setattr__(self, "_index", NeighbourIndex(self.texts))
        power = self.label_power
        object.__setattr__(self, "_labels", array("d", (v**power for v in self.labels)))
        # A label counts as "needed premium" in the reasons from 0.5, whatever its pull.
        object.__setattr__(self, "_needed_from", 0.5**power)
        object.__setattr__(self, "_weights", array("d", self.weights))

    @classmethod
    def of(
        cls,
        texts: Sequence[str],
        labels: Sequence[float],
        weights: Sequence[float],
        **settings: Any,
    ) -> Memory:
        """Rounded as stored (4 decimals), so the model measured is the model loaded."""
        return cls(
            tuple(map(normalised, texts)),
            tuple(round(v, 4) for v in labels),
            tuple(round(v, 4) for v in weights),
            **settings,
        )

    def pull(self, words: Sequence[str], skip: frozenset[int] = frozenset()) -> Pull:
        """The judged neighbours' pull; `skip`: positions left out, as if never judged (the
        guard's leave-one-group-out scores)."""
        mass = weight = closest = 0.0
        needed = fine = 0
        for cosine, position in self.neighbours(words, skip):
            w = self._weights[position] * cosine * cosine
            label = self._labels[position]
            mass += w * label
            weight += w
            needed += label >= self._needed_from
            fine += label < self._needed_from
            closest = max(closest, cosine)
        return Pull(mass, weight, needed, fine, closest)

    @property
    def pulls(self) -> array[float]:
        """Each label as it pulls: label ** label_power, by position."""
        return self._labels

    def neighbours(
        self, words: Sequence[str], skip: frozenset[int] = frozenset()
    ) -> list[tuple[float, int]]:
        """(cosine, position) of the judged questions that pull: up to `k` above the floor, most
        alike first, `skip` left out."""
        found = self._index.nearest(words, self.k + len(skip))
        if skip:
            found = [pair for pair in found if pair[1] not in skip][: self.k]
        return [pair for pair in found if pair[0] > self.floor]

    def adjust(
        self, feats: Features, base: float, skip: frozenset[int] = frozenset()
    ) -> tuple[float, str | None]:
        """The analyzer's adjustment hook (QueryAnalyzer.adjusted)."""
        pull = self.pull(feats.tokens, skip)
        score = pull.score(base, self.prior, self.lower_from)
        if abs(score - base) < REASON_SHIFT:
            return score, None
        raised = score > base
        return score, _reason(raised, pull.needed if raised else pull.fine)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "k": self.k}
        out.update({name: getattr(self, name) for name in _NUMBERS})
        out.update(
            base_fingerprint=self.base_fingerprint,
            texts=list(self.texts),
            labels=list(self.labels),
            weights=list(self.weights),
        )
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Memory:
        if raw.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} router model: tune again")
        # Nothing of the parsed JSON is kept (the texts packed, equal numbers shared), so its
        # objects are freed together rather than pinning the allocator's pools (RSS).
        return cls(
            texts=Lines(map(str, raw["texts"])),
            labels=_shared(map(float, raw["labels"])),
            weights=_shared(map(float, raw["weights"])),
            k=int(raw["k"]),
            base_fingerprint=str(raw["base_fingerprint"]),
            **{name: float(raw.get(name, _STORED_BEFORE.get(name, 0.0))) for name in _NUMBERS},
        )


def _shared(values: Iterable[float]) -> tuple[float, ...]:
    """The values, equal ones as one object (labels and weights take a few distinct values);
    zeros are left alone (0.0 and -0.0 are equal but written differently)."""
    seen: dict[float, float] = {}
    return tuple(seen.setdefault(v, v) if v else v for v in values)


def _reason(raised: bool, count: int) -> str:
    questions = f"{count} judged question{'s' if count != 1 else ''}"
    if raised:
        return f"resembles {questions} that needed premium"
    return f"resembles {questions} a cheaper tier answered well"
