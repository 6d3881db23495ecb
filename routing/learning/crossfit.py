"""Cross-fitting: every label is scored by a memory fitted without it, and without any
near-duplicate of it, so all labels serve both to fit and to judge.

Near-duplicates (the same question asked again with other case, punctuation, word order,
inflection or a word changed: the same stems, or at least `NEAR_DUPLICATE` of their features in
common, Jaccard) form one group, and
a group sits in one fold only; otherwise a repeated question would be judged by its own copy.
Rewordings in other words stay separate questions: the deployment will see new wordings of
known questions, and that is what the out-of-fold scores measure. Fold of a group: a hash of its
members' stems, so a label keeps its fold when others are added.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from routing.learning.examples import LabelledExample
from routing.learning.keys import split_key
from routing.learning.memory import Memory
from routing.learning.neighbours import NeighbourIndex, features_of, normalised

# Jaccard of the feature sets: 0.71 for "How do I / How can I reset my password?"; 0.8% of
# random pairs of wordings of one clinc150 or banking77 intent reach it (median 0.16).
NEAR_DUPLICATE = 0.6


def near_duplicate_groups(texts: Sequence[str]) -> list[int]:
    """A group id per text (the smallest position in its group)."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    words = [normalised(text).split() for text in texts]
    features = [features_of(w) for w in words]
    index = NeighbourIndex([" ".join(w) for w in words], max_df=1.0)  # candidates only
    first: dict[str, int] = {}
    for i, text in enumerate(texts):
        join(i, first.setdefault(split_key(text), i))
        # A near-duplicate shares the rarest features: a short read of the postings finds it.
        for _, j in index.nearest(words[i], 8, budget=200):
            shared = len(features[i] & features[j])
            if shared >= NEAR_DUPLICATE * (len(features[i]) + len(features[j]) - shared):
                join(i, j)
    return [root(i) for i in range(len(texts))]


def fold_assignment(texts: Sequence[str], groups: Sequence[int], folds: int) -> list[int]:
    keys: dict[int, str] = {}
    for text, group in zip(texts, groups, strict=True):
        key = split_key(text)
        keys[group] = min(keys.get(group, key), key)
    fold = {
        group: int.from_bytes(hashlib.sha256(b"fold:" + key.encode()).digest()[:8], "big") % folds
        for group, key in keys.items()
    }
    return [fold[group] for group in groups]


@dataclass(frozen=True)
class MemorySettings:
    """The candidate's settings (`memory.Memory`); measured choices in docs/routing.md."""

    prior: float = 0.003
    floor: float = 0.05
    lower_from: float = 0.5
    k: int = 20
    label_power: float = 2.0


def balanced_weights(examples: Sequence[LabelledExample]) -> list[float]:
    """Example weights with user signals rescaled so that the label mass saying "needed premium"
    equals the mass saying "did not". People click "ask a stronger model" on failures far more
    often than 👍 on successes; left as they are, escalations would pull every loosely similar
    question up (measured: halves the rise of the questions that were never escalated, with the
    same ranking; docs/routing.md). Shadow comparisons are a random sample: left as they are."""
    positive = sum(ex.weight * ex.needs_premium for ex in examples if ex.kind != "shadow")
    negative = sum(ex.weight * (1.0 - ex.needs_premium) for ex in examples if ex.kind != "shadow")
    if positive <= 0.0 or negative <= 0.0:
        return [ex.weight for ex in examples]
    half = (positive + negative) / 2.0
    return [
        ex.weight if ex.kind == "shadow"
        # Soft labels split their weight between the sides in proportion.
        else ex.weight * (ex.needs_premium * half / positive
                          + (1.0 - ex.needs_premium) * half / negative)
        for ex in examples
    ]  # fmt: skip


def fit_memory(
    examples: Sequence[LabelledExample],
    settings: MemorySettings = MemorySettings(),
    base_fingerprint: str = "",
    retrieval_weight: float = 0.0,
) -> Memory:
    """A memory of `examples`: nothing is estimated beyond the labels themselves (and the
    retrieval weight `tune` learned from them)."""
    return Memory.of(
        [ex.text for ex in examples], [ex.needs_premium for ex in examples],
        balanced_weights(examples), prior=settings.prior, floor=settings.floor,
        lower_from=settings.lower_from, k=settings.k, base_fingerprint=base_fingerprint,
        retrieval_weight=retrieval_weight, label_power=settings.label_power,
    )  # fmt: skip
