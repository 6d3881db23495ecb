"""How far the guard's out-of-fold gain could move with other labels: a bootstrap that resamples
the memory's labels together with the judged ones.

An out-of-fold score is made of the labels of the question's judged neighbours. A bootstrap that
keeps those scores fixed and resamples only the judged outcomes misses that: two labels that are
each other's neighbours add the same chance agreement twice, and the interval comes out narrow
(measured: labels drawn at random were adopted 5-7 times in 100 at a nominal 2.5%,
docs/routing.md). Here each round draws groups of labels with replacement and recomputes every
out-of-fold score from the neighbours kept from the scoring pass, each neighbour counted as
often as its group was drawn (a group drawn twice weighs twice, one not drawn is not in that
round's memory). The rounds' memories hold fewer distinct labels than the real one, so their
gains are lower on average: only their spread is used, around the real point gain.

The rounds stop early once the decision is clear (`settled`): checked every `CHECK_EVERY`
rounds, when the decision at the point gain would be the same with a spread half as large and
half again as large. The rounds drawn are the first rounds of the full run (same seed), so an
unsettled interval is exactly the full run's. With 10,000 labels, 300 rounds took 26 s of a 42 s
tune; a clear decision stops at 50 (docs/benchmarks.md).

Scores the memory alone does not explain (thread context, acknowledgements) stay fixed.
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass

from routing.learning.memory import Memory, Pull
from routing.learning.metrics import Outcome, _summarise, _Table, tie_groups
from routing.learning.retrieval import shifted

CHECK_EVERY = 50
SETTLED = (0.5, 1.5)  # the spread's factors the decision must survive to stop early


def adopts(point: float, spread: float, z: float) -> bool:
    """The guard's rule: a positive gain whose interval excludes a loss."""
    return point > 0.0 and point - z * spread > 0.0


def settled(point: float, spread: float, z: float) -> bool:
    low, high = SETTLED
    return adopts(point, spread * low, z) == adopts(point, spread * high, z)


def _sd(gains: Sequence[float]) -> float:
    if len(gains) < 2:
        return float("nan")
    mean = math.fsum(gains) / len(gains)
    return math.sqrt(math.fsum((g - mean) ** 2 for g in gains) / (len(gains) - 1))


@dataclass(frozen=True)
class Neighbourhood:
    """One label's judged neighbours as its out-of-fold score used them (own group skipped)."""

    positions: tuple[int, ...]
    weights: tuple[float, ...]  # label weight x cosine ** 2
    cosines: tuple[float, ...]
    own: float  # the shipped analyzer's score of the message itself
    fixed: bool  # True: the score is not the memory's pull alone; kept as it was


def neighbourhood(memory: Memory, words: Sequence[str], skip: frozenset[int], own: float,
                  score: float) -> Neighbourhood:  # fmt: skip
    found = memory.neighbours(words, skip)
    hood = Neighbourhood(
        tuple(p for _, p in found),
        tuple(memory.weights[p] * c * c for c, p in found),
        tuple(c for c, _ in found),
        own,
        False,
    )
    if abs(rescored_one(memory, hood, None) - score) > 1e-9:
        return Neighbourhood((), (), (), score, True)
    return hood


def rescored_one(memory: Memory, hood: Neighbourhood, counts: Sequence[int] | None) -> float:
    if hood.fixed:
        return hood.own
    if counts is None:
        drawn: Sequence[int] = [1] * len(hood.positions)
    else:
        drawn = list(map(counts.__getitem__, hood.positions))
    labels = map(memory.pulls.__getitem__, hood.positions)
    weighted = list(map(operator.mul, drawn, hood.weights))
    mass = math.fsum(map(operator.mul, weighted, labels))
    # The cosines are in descending order: the closest neighbour drawn is the first.
    closest = next((c for c, k in zip(hood.cosines, drawn, strict=True) if k), 0.0)
    pull = Pull(mass, math.fsum(weighted), 0, 0, closest)
    return pull.score(hood.own, memory.prior, memory.lower_from)


def gain_spread(
    memory: Memory,
    hoods: Sequence[Neighbourhood],
    before: Sequence[float],
    outcomes: Sequence[Outcome],
    groups: Sequence[int],
    retrievals: Sequence[float | None],
    retrieval_weights: Sequence[float],
    *,
    seed: int,
    rounds: int,
    target: float,
    point: float | None = None,
    z: float = 1.96,
) -> float:
    """Standard deviation of the APGR gain (candidate minus `before`) over bootstrap rounds that
    resample the groups for the memory and the judged outcomes alike. With `point` (the gain the
    interval is centred on), stops after a multiple of `CHECK_EVERY` rounds once `settled`."""
    table = _Table.of(outcomes)
    order_before = tie_groups(before)
    members: dict[int, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    units = list(members.values())
    rng = random.Random(seed)
    gains: list[float] = []
    n = len(outcomes)
    for done in range(1, rounds + 1):
        counts = [0] * n
        for unit in rng.choices(units, k=len(units)):
            for i in unit:
                counts[i] += 1
        after = [
            shifted(rescored_one(memory, hood, counts), retrieval, weight) if counts[i] else 0.0
            for i, (hood, retrieval, weight) in enumerate(
                zip(hoods, retrievals, retrieval_weights, strict=True)
            )
        ]
        b = _summarise(order_before, counts, table, target)
        a = _summarise(tie_groups(after), counts, table, target)
        if a is not None and b is not None:
            gains.append(a.apgr - b.apgr)
        if (point is not None and done % CHECK_EVERY == 0 and done < rounds
                and len(gains) > 1 and settled(point, _sd(gains), z)):  # fmt: skip
            break
    return _sd(gains)
