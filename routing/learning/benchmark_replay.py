"""Replays on real labels: benchmark questions whose answers by both tiers were graded.

No simulation: for each question (MMLU, GSM8K) the data records whether the strong model
(GPT-4) and the weak one (Mixtral) answered correctly. A deployment's judged shadow traffic is a
seeded share of those questions, labelled from that correctness (cheap quality = weak correct,
premium quality = strong correct); the rest is evaluated with the same real outcomes. Unlike the
hidden-rule replay, nothing guarantees there is anything to learn: "needs premium" on real
questions is noisy and follows no intent.

Only questions the shipped analyzer was not trained on (`heldout`) are used. `subjects` narrows
the traffic to a few subjects, as a real deployment's would be.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from routing.learning.examples import LabelledExample, example_from_comparison
from routing.learning.metrics import Outcome

# A subject needs this many unseen questions to be one of a narrow deployment's subjects.
MIN_SUBJECT_QUESTIONS = 60


class Graded(Protocol):
    """A benchmark question with both tiers graded (routing.training.datasets.Example fits)."""

    @property
    def text(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def weak_quality(self) -> float: ...
    @property
    def strong_quality(self) -> float: ...
    @property
    def heldout(self) -> bool: ...


@dataclass(frozen=True)
class GradedQuestion:
    text: str
    subject: str
    cheap_quality: float
    premium_quality: float

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.cheap_quality, self.premium_quality)


@dataclass(frozen=True)
class BenchmarkReplay:
    labelled: tuple[LabelledExample, ...]
    evaluation: tuple[GradedQuestion, ...]
    subjects: tuple[str, ...]


def benchmark_replay(
    questions: Sequence[Graded],
    *,
    seed: int = 0,
    labelled: int = 300,
    subjects: int | None = None,
    min_subject: int = MIN_SUBJECT_QUESTIONS,
) -> BenchmarkReplay:
    """A seeded shuffle of the held-out questions (of `subjects` seeded subjects among those
    with at least `min_subject` of them, when given): the first `labelled` become judged shadow
    comparisons, the rest the evaluation set."""
    unique = {q.text: q for q in questions if q.heldout}
    pool = [unique[text] for text in sorted(unique)]
    rng = random.Random(seed)
    names = sorted({q.group for q in pool})
    if subjects is not None:
        sizes = Counter(q.group for q in pool)
        eligible = [name for name in names if sizes[name] >= min_subject]
        if not 0 < subjects <= len(eligible):
            raise ValueError(f"{subjects} subjects asked for, {len(eligible)} have at least "
                             f"{min_subject} held-out questions")  # fmt: skip
        names = sorted(rng.sample(eligible, subjects))
        pool = [q for q in pool if q.group in names]
    if not 0 < labelled < len(pool):
        raise ValueError(f"{labelled} labels asked for, {len(pool)} held-out questions available "
                         "(some must remain to evaluate on)")  # fmt: skip
    rng.shuffle(pool)
    return BenchmarkReplay(
        tuple(example_from_comparison(q.text, q.weak_quality, q.strong_quality)
              for q in pool[:labelled]),
        tuple(GradedQuestion(q.text, q.group, q.weak_quality, q.strong_quality)
              for q in pool[labelled:]),
        tuple(names),
    )  # fmt: skip
