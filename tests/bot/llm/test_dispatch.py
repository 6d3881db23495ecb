"""Retries, backoff with Retry-After, and fallback: the dispatcher over an in-memory provider."""

from __future__ import annotations

import random

import pytest

from bot.llm.dispatch import Attempt, Dispatcher, RetryPolicy, Trying
from bot.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    OutOfCredits,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamBroken,
)
from bot.llm.types import ChatMessage, ChatRequest
from tests.fakes import FakeProvider, Scripted

A, B = "openai/gpt-4o-mini", "google/gemini-2.0-flash"
REQUEST = ChatRequest(A, (ChatMessage("user", "My invoice is wrong, what now?"),))


class Run:
    """Drives `Dispatcher.stream` to the end and keeps what it yielded, and every sleep."""

    def __init__(self, provider: FakeProvider, max_retries: int = 2, **policy: float) -> None:
        self.sleeps: list[float] = []
        self.attempts: list[Attempt] = []
        self.tries: list[Trying] = []
        self.deltas: list[str] = []
        retry = RetryPolicy(max_retries, policy.get("base", 0.01), policy.get("cap", 0.05))
        self.dispatcher = Dispatcher(provider, retry, random.Random(5), sleep=self._sleep)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def __call__(self, models: tuple[str, ...] = (A, B)) -> Attempt:
        async for event in self.dispatcher.stream(models, REQUEST):
            if isinstance(event, Attempt):
                self.attempts.append(event)
            elif isinstance(event, Trying):
                self.tries.append(event)
            else:
                self.deltas.append(event)
        # Every request is announced before it is made (a crash during it is then charged).
        assert [(t.number, t.model) for t in self.tries] == [
            (a.number, a.model_asked) for a in self.attempts
        ]
        final = self.attempts[-1]
        assert final.result is not None and final.result.text == "".join(self.deltas)
        return final


def failing(error: ProviderError, model: str = A, times: int = 1) -> Scripted:
    return Scripted(error=error, model=model, repeat=times)


async def test_rate_limit_waits_at_least_retry_after() -> None:
    provider = FakeProvider()
    provider.enqueue(failing(RateLimited(detail="429", retry_after_s=3.0), times=2))
    run = Run(provider)
    attempt = await run()
    assert attempt.model_asked == A and attempt.number == 3
    assert len(run.sleeps) == 2
    assert all(s >= 3.0 for s in run.sleeps), run.sleeps
    assert [type(a.error) for a in run.attempts] == [RateLimited, RateLimited, type(None)]


async def test_backoff_grows_exponentially_with_jitter() -> None:
    provider = FakeProvider()
    provider.enqueue(failing(ProviderUnavailable(detail="500"), times=3))
    run = Run(provider, max_retries=3, base=1.0, cap=100.0)
    await run((A,))
    assert len(run.sleeps) == 3
    for retry, slept in enumerate(run.sleeps):
        assert 0.5 * 2**retry <= slept <= 2**retry  # backoff * uniform(0.5, 1.0)


async def test_server_errors_are_retried_then_succeed() -> None:
    provider = FakeProvider()
    provider.enqueue(failing(ProviderUnavailable(detail="503"), times=2))
    run = Run(provider)
    attempt = await run()
    assert (attempt.model_asked, attempt.number) == (A, 3)
    assert [a.model_asked for a in run.attempts] == [A, A, A]
    assert provider.models_asked == [A, A, A]


async def test_model_that_keeps_failing_falls_back_to_the_next() -> None:
    provider = FakeProvider()
    provider.enqueue(failing(ProviderUnavailable(detail="500"), times=3))
    run = Run(provider, max_retries=2)
    attempt = await run()
    assert [a.model_asked for a in run.attempts] == [A, A, A, B]
    assert [a.number for a in run.attempts] == [1, 2, 3, 4]
    assert attempt.model_asked == B and attempt.result is not None
    assert attempt.result.model_served == B
    assert len(run.sleeps) == 2  # between tries of A; none before switching model


async def test_unknown_model_falls_back_at_once() -> None:
    provider = FakeProvider()
    provider.enqueue(failing(BadRequest(detail="400 unknown model"), model="acme/retired"))
    run = Run(provider)
    attempt = await run(("acme/retired", B))
    assert [a.model_asked for a in run.attempts] == ["acme/retired", B]
    assert attempt.model_asked == B
    assert run.sleeps == []


async def test_all_models_failing_raises_the_last_error() -> None:
    provider = FakeProvider()
    provider.enqueue(Scripted(error=ProviderUnavailable(detail="500"), repeat=10))
    run = Run(provider, max_retries=1)
    with pytest.raises(ProviderUnavailable):
        await run()
    assert len(run.attempts) == 4, "every try is reported before the error is raised"
    assert all(a.error is not None and a.result is None for a in run.attempts)


@pytest.mark.parametrize("error", [AuthenticationFailed, OutOfCredits])
async def test_fatal_errors_stop_at_once(error: type[ProviderError]) -> None:
    provider = FakeProvider()
    provider.enqueue(failing(error(detail="refused")))
    run = Run(provider)
    with pytest.raises(error):
        await run()
    assert len(run.attempts) == 1 and len(provider.requests) == 1


async def test_slow_first_token_is_retried() -> None:
    provider = FakeProvider()
    provider.enqueue(failing(ProviderTimeout(detail="no first token in time")))
    run = Run(provider)
    attempt = await run()
    assert attempt.number == 2
    assert run.attempts[0].error is not None and run.attempts[0].error.kind == "timeout"


async def test_no_retry_after_text_reached_the_user() -> None:
    provider = FakeProvider()
    provider.enqueue(Scripted(model=A, chunks=5, break_after=2))
    run = Run(provider)
    with pytest.raises(StreamBroken) as caught:
        await run()
    assert len(provider.requests) == 1, "a second answer must not be streamed after the first"
    assert len(run.attempts) == 1 and run.sleeps == []
    partial = run.attempts[0].result
    assert partial is not None and partial.text == "".join(run.deltas) != ""
    assert caught.value.partial == partial


async def test_broken_stream_before_any_text_is_retried() -> None:
    provider = FakeProvider()
    provider.enqueue(Scripted(model=A, break_after=0))
    run = Run(provider)
    attempt = await run()
    assert attempt.number == 2
    assert run.attempts[0].error is not None and run.deltas
