"""Retries with backoff, then fallback to the next model, but only before text reached the user.

Every attempt, failed or not, is reported through `on_attempt`, so the ledger has one row per try.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.errors import (
    AuthenticationFailed,
    OutOfCredits,
    ProviderError,
    RateLimited,
    StreamBroken,
)
from bot.llm.provider import Provider
from bot.llm.types import ChatRequest, OnDelta, StreamResult

log = logging.getLogger(__name__)

# Errors that another try or another model cannot fix.
FATAL = (AuthenticationFailed, OutOfCredits)


@dataclass(frozen=True)
class Attempt:
    number: int  # 1-based across the whole answer
    model_asked: str
    result: StreamResult | None  # complete result, or the partial one of a broken stream
    error: ProviderError | None
    latency_ms: int


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2  # per model, after the first try
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0


class Dispatcher:
    def __init__(
        self,
        client: Provider,
        policy: RetryPolicy = RetryPolicy(),
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._policy = policy
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def run(
        self,
        models: Sequence[str],
        make_request: Callable[[str], ChatRequest],
        on_delta: OnDelta,
        on_attempt: Callable[[Attempt], Awaitable[None]],
    ) -> tuple[Attempt, StreamResult]:
        """The successful attempt and its result; raises the last error when all failed.

        A `StreamBroken` after text reached the user is raised at once: retrying would show the
        user a second, different answer.
        """
        if not models:
            raise ValueError("no model to ask")
        number = 0
        last_error: ProviderError | None = None
        for model in models:
            for retry in range(self._policy.max_retries + 1):
                number += 1
                started = time.perf_counter()
                delivered = False

                async def relay(text: str) -> None:
                    nonlocal delivered
                    delivered = True
                    await on_delta(text)

                try:
                    result = await self._client.stream(make_request(model), relay)
                except ProviderError as error:
                    partial = error.partial if isinstance(error, StreamBroken) else None
                    await on_attempt(Attempt(number, model, partial, error, _ms(started)))
                    log.warning("attempt %d on %s failed: %s", number, model, error.detail)
                    if delivered or isinstance(error, FATAL):
                        raise
                    last_error = error
                    if not error.retryable:
                        break  # this model won't work: try the next one
                    if retry < self._policy.max_retries:
                        await self._sleep(self._delay(retry, error))
                    continue
                attempt = Attempt(number, model, result, None, _ms(started))
                await on_attempt(attempt)
                return attempt, result
        assert last_error is not None
        raise last_error

    def _delay(self, retry: int, error: ProviderError) -> float:
        """Exponential backoff with jitter; a provider's Retry-After is a floor."""
        backoff = min(self._policy.backoff_max_s, self._policy.backoff_base_s * 2.0**retry)
        delay = backoff * self._rng.uniform(0.5, 1.0)
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            delay = max(delay, min(error.retry_after_s, 60.0))
        return delay


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
