"""Retries with backoff, then fallback to the next model, but only before text reached the user.

`Dispatcher.stream` is a provider over a provider (like pydantic-ai's `FallbackModel`): it
yields the answer's text deltas and, after every try, one `Attempt`, so the consumer records
each attempt exactly once and nothing calls back into it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from bot.errors import (
    AuthenticationFailed,
    OutOfCredits,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    StreamBroken,
)
from bot.llm.provider import Provider
from bot.llm.types import ChatRequest, StreamResult

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

    @property
    def produced_text(self) -> bool:
        return self.result is not None and bool(self.result.text)


@dataclass(frozen=True)
class Trying:
    """Yielded just before a provider request is made (so a crash during it can be charged)."""

    number: int
    model: str


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2  # per model, after the first try
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0


class Dispatcher:
    def __init__(
        self,
        provider: Provider,
        policy: RetryPolicy = RetryPolicy(),
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._provider = provider
        self._policy = policy
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def stream(
        self, models: Sequence[str], request: ChatRequest
    ) -> AsyncGenerator[str | Trying | Attempt, None]:
        """Text deltas and one `Attempt` per try (each announced by a `Trying` first); the
        last `Attempt` holds the answer.

        When every try failed, the last error is raised after its `Attempt`. A failure after
        text reached the user is raised at once: retrying would show a second, different answer.
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
                result: StreamResult | None = None
                yield Trying(number, model)
                try:
                    asked = dataclasses.replace(request, model=model)
                    async with aclosing(self._provider.stream(asked)) as chunks:
                        async for chunk in chunks:
                            if isinstance(chunk, str):
                                delivered = True
                                yield chunk
                            else:
                                result = chunk
                    if result is None:
                        raise ProviderUnavailable(detail="the stream ended without a result")
                except ProviderError as error:
                    partial = error.partial if isinstance(error, StreamBroken) else None
                    yield Attempt(number, model, partial, error, _ms(started))
                    log.warning("attempt %d on %s failed: %s", number, model, error.detail)
                    if delivered or isinstance(error, FATAL):
                        raise
                    last_error = error
                    if not error.retryable:
                        break  # this model won't work: try the next one
                    if retry < self._policy.max_retries:
                        await self._sleep(self._delay(retry, error))
                    continue
                yield Attempt(number, model, result, None, _ms(started))
                return
        assert last_error is not None
        raise last_error

    def _delay(self, retry: int, error: ProviderError) -> float:
        """Exponential backoff with jitter; a provider's Retry-After is a floor."""
        backoff = min(self._policy.backoff_max_s, self._policy.backoff_base_s * 2.0**retry)
        delay = backoff * self._rng.uniform(0.5, 1.0)
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            delay = max(delay, min(error.retry_after_s, 60.0))
        return delay


async def complete(
    dispatcher: Dispatcher, models: Sequence[str], request: ChatRequest
) -> tuple[list[Attempt], StreamResult | None, ProviderError | None]:
    """Run a request to the end without streaming it anywhere (judge, shadow answers):
    every attempt, the final result, and the error when all tries failed."""
    attempts: list[Attempt] = []
    try:
        async with aclosing(dispatcher.stream(models, request)) as events:
            async for event in events:
                if isinstance(event, Attempt):
                    attempts.append(event)
    except ProviderError as error:
        return attempts, None, error
    final = attempts[-1].result if attempts else None
    return attempts, final, None


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
