"""Retries with backoff, then fallback to the next candidate (on any provider), but only
before text reached the user.

`Dispatcher.stream` is a provider over providers (like pydantic-ai's `FallbackModel`): it
yields the answer's text deltas and, after every try, one `Attempt`, so the consumer records
each attempt exactly once and nothing calls back into it. `Dispatcher.embed` tries an
embedding request the same way. A provider that refused our key or our credit is not asked
again in that call; the candidates on other providers still are.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import aclosing
from dataclasses import dataclass

from bot.llm.errors import (
    AuthenticationFailed,
    OutOfCredits,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    StreamBroken,
)
from bot.llm.provider import Provider
from bot.llm.types import ChatRequest, EmbeddingRequest, Embeddings, StreamResult
from routing.candidates import DEFAULT_PROVIDER, Candidate

log = logging.getLogger(__name__)

# Errors that another try or another model on the same provider cannot fix.
FATAL = (AuthenticationFailed, OutOfCredits)

Result = StreamResult | Embeddings


@dataclass(frozen=True)
class Attempt:
    number: int  # 1-based across the whole call
    candidate: Candidate
    result: Result | None  # complete result, or the partial one of a broken stream
    error: ProviderError | None
    latency_ms: int

    @property
    def model_asked(self) -> str:
        return self.candidate.model

    @property
    def produced_text(self) -> bool:
        return self.result is not None and bool(self.result.text)


@dataclass(frozen=True)
class Trying:
    """Yielded just before a provider request is made (so a crash during it can be charged)."""

    number: int
    candidate: Candidate

    @property
    def model(self) -> str:
        return self.candidate.model


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2  # per model, after the first try
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0


class _Plan:
    """Which candidate to try next: each up to `retries` more times, then the next one. An
    error no retry fixes skips the rest of that model's tries; a refused key or credit skips
    every candidate on that provider."""

    def __init__(self, candidates: Sequence[Candidate], retries: int) -> None:
        self._candidates, self._retries = candidates, retries
        self._give_up = False
        self._dead: set[str] = set()

    def __iter__(self) -> Iterator[tuple[Candidate, int]]:
        for candidate in self._candidates:
            self._give_up = False
            for retry in range(self._retries + 1):
                if self._give_up or candidate.provider in self._dead:
                    break
                yield candidate, retry

    def failed(self, candidate: Candidate, error: ProviderError, retry: int) -> bool:
        """Note a failed try; True when the same model is tried again (after a pause)."""
        if isinstance(error, FATAL):
            self._dead.add(candidate.provider)
        elif not error.retryable:
            self._give_up = True
        return not self._give_up and candidate.provider not in self._dead and (
            retry < self._retries
        )


Ask = Callable[[Provider, Candidate], AsyncIterator[str | Result]]


class Dispatcher:
    def __init__(
        self,
        providers: Provider | Mapping[str, Provider],
        policy: RetryPolicy = RetryPolicy(),
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        resolve: Callable[[str], Candidate] = Candidate,
    ) -> None:
        """`providers` by the routing file's names (one provider alone is the default one);
        `resolve` turns a routing decision's model key into its candidate."""
        if not isinstance(providers, Mapping):
            providers = {DEFAULT_PROVIDER: providers}
        self._providers = dict(providers)
        self._policy = policy
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.resolve = resolve

    def stream(
        self, models: Sequence[str], request: ChatRequest, *, retries: int | None = None
    ) -> AsyncGenerator[str | Trying | Attempt, None]:
        """Text deltas and one `Attempt` per try (each announced by a `Trying` first); the
        last `Attempt` holds the answer.

        When every try failed, the last error is raised after its `Attempt`. A failure after
        text reached the user is raised at once: retrying would show a second, different answer.
        """

        def ask(provider: Provider, candidate: Candidate) -> AsyncIterator[str | Result]:
            return provider.stream(dataclasses.replace(request, model=candidate.model))

        return self._tries(models, ask, retries)

    def embed(
        self, models: Sequence[str], request: EmbeddingRequest
    ) -> AsyncGenerator[Trying | Attempt, None]:
        """One `Attempt` per try, each announced by a `Trying`; the last holds the vectors."""

        async def ask(provider: Provider, candidate: Candidate) -> AsyncIterator[Result]:
            yield await provider.embed(dataclasses.replace(request, model=candidate.model))

        return self._tries(models, ask, None)  # type: ignore[return-value]

    async def _tries(
        self, models: Sequence[str], ask: Ask, retries: int | None
    ) -> AsyncGenerator[str | Trying | Attempt, None]:
        if not models:
            raise ValueError("no model to ask")
        plan = _Plan([self.resolve(m) for m in models], self._policy.max_retries
                     if retries is None else retries)  # fmt: skip
        number = 0
        last_error: ProviderError | None = None
        for candidate, retry in plan:
            number += 1
            started = time.perf_counter()
            delivered = False
            result: Result | None = None
            yield Trying(number, candidate)
            try:
                provider = self._provider(candidate)
                async with aclosing(ask(provider, candidate)) as chunks:  # type: ignore[type-var]
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
                yield Attempt(number, candidate, partial, error, _ms(started))
                log.warning("attempt %d on %s failed: %s", number, candidate.key, error.detail)
                if delivered:
                    raise
                last_error = error
                if plan.failed(candidate, error, retry):
                    await self._sleep(self._delay(retry, error))
                continue
            yield Attempt(number, candidate, result, None, _ms(started))
            return
        assert last_error is not None
        raise last_error

    def _provider(self, candidate: Candidate) -> Provider:
        provider = self._providers.get(candidate.provider)
        if provider is None:  # the composition root builds one per routing-file provider
            raise ProviderUnavailable(detail=f"no provider named {candidate.provider!r}")
        return provider

    def _delay(self, retry: int, error: ProviderError) -> float:
        """Exponential backoff with jitter; a provider's Retry-After is a floor."""
        backoff = min(self._policy.backoff_max_s, self._policy.backoff_base_s * 2.0**retry)
        delay = backoff * self._rng.uniform(0.5, 1.0)
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            delay = max(delay, min(error.retry_after_s, 60.0))
        return delay


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
