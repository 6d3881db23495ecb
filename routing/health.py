"""Which models are failing right now, so tiered routing asks a healthy one first."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence


class ModelHealth:
    """A model is unhealthy after `threshold` consecutive failures, for `cooldown_s` seconds."""

    def __init__(
        self,
        threshold: int = 3,
        cooldown_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._failures: dict[str, int] = {}
        self._down_until: dict[str, float] = {}

    def record(self, model: str, ok: bool) -> None:
        if ok:
            self._failures.pop(model, None)
            self._down_until.pop(model, None)
            return
        count = self._failures.get(model, 0) + 1
        self._failures[model] = count
        if count >= self._threshold:
            self._down_until[model] = self._clock() + self._cooldown_s

    def healthy(self, model: str) -> bool:
        until = self._down_until.get(model)
        return until is None or self._clock() >= until

    def order(self, pool: Sequence[str]) -> tuple[str, ...]:
        """The pool with healthy models first, each group in its configured (cheapest) order."""
        healthy = [m for m in pool if self.healthy(m)]
        return tuple(healthy + [m for m in pool if m not in healthy])
