"""Retries, backoff with Retry-After, and fallback, over real HTTP against the simulator."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.llm.openai_client import ProviderClient, Timeouts
from adapters.llm.simulator import Fault, LLMSimulator
from bot.errors import (
    AuthenticationFailed,
    OutOfCredits,
    ProviderUnavailable,
    RateLimited,
    StreamBroken,
)
from bot.llm.dispatch import Attempt, Dispatcher, RetryPolicy
from bot.llm.types import ChatMessage, ChatRequest

A, B = "openai/gpt-4o-mini", "google/gemini-2.0-flash"


class Recorder:
    """Records what the dispatcher did: sleeps, attempts, and text shown to the user."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.attempts: list[Attempt] = []
        self.deltas: list[str] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def on_attempt(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)

    async def on_delta(self, text: str) -> None:
        self.deltas.append(text)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def make(
    sim: LLMSimulator,
    http: httpx.AsyncClient,
    rec: Recorder,
    max_retries: int = 2,
    first_token_s: float = 5.0,
) -> Dispatcher:
    client = ProviderClient(http, sim.base_url, "k", Timeouts(2.0, first_token_s, 20.0))
    policy = RetryPolicy(max_retries=max_retries, backoff_base_s=0.01, backoff_max_s=0.05)
    return Dispatcher(client, policy, random.Random(1), sleep=rec.sleep)


def req(model: str) -> ChatRequest:
    return ChatRequest(model, (ChatMessage("user", "My invoice is wrong, what now?"),))


async def run(d: Dispatcher, rec: Recorder, models: tuple[str, ...] = (A, B)) -> Attempt:
    attempt, result = await d.run(models, req, rec.on_delta, rec.on_attempt)
    assert result.text == "".join(rec.deltas)
    return attempt


async def test_rate_limit_waits_at_least_retry_after(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("rate_limit", model=A, times=2, retry_after_s=3.0))
    attempt = await run(make(simulator, http, rec), rec)
    assert attempt.model_asked == A and attempt.number == 3
    assert len(rec.sleeps) == 2
    assert all(s >= 3.0 for s in rec.sleeps), rec.sleeps
    assert [type(a.error) for a in rec.attempts] == [RateLimited, RateLimited, type(None)]


async def test_backoff_grows_exponentially_with_jitter(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("server_error", model=A, times=3))
    client = ProviderClient(http, simulator.base_url, "k")
    policy = RetryPolicy(max_retries=3, backoff_base_s=1.0, backoff_max_s=100.0)
    d = Dispatcher(client, policy, random.Random(5), sleep=rec.sleep)
    await run(d, rec, (A,))
    assert len(rec.sleeps) == 3
    for retry, slept in enumerate(rec.sleeps):
        assert 0.5 * 2**retry <= slept <= 2**retry  # backoff * uniform(0.5, 1.0)


async def test_server_errors_are_retried_then_succeed(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("server_error", model=A, times=2, status=503))
    attempt = await run(make(simulator, http, rec), rec)
    assert (attempt.model_asked, attempt.number) == (A, 3)
    assert [a.model_asked for a in rec.attempts] == [A, A, A]
    assert len(simulator.requests) == 3


async def test_model_that_keeps_failing_falls_back_to_the_next(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("server_error", model=A, times=3))
    attempt = await run(make(simulator, http, rec, max_retries=2), rec)
    assert [a.model_asked for a in rec.attempts] == [A, A, A, B]
    assert [a.number for a in rec.attempts] == [1, 2, 3, 4]
    assert attempt.model_asked == B and attempt.result is not None
    assert attempt.result.model_served == B
    assert len(rec.sleeps) == 2  # between tries of A; none before switching model


async def test_unknown_model_falls_back_at_once(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    attempt = await run(make(simulator, http, rec), rec, ("acme/retired-model", B))
    assert [a.model_asked for a in rec.attempts] == ["acme/retired-model", B]
    assert attempt.model_asked == B
    assert rec.sleeps == []


async def test_all_models_failing_raises_the_last_error(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("server_error", times=10))
    with pytest.raises(ProviderUnavailable):
        await run(make(simulator, http, rec, max_retries=1), rec)
    assert len(rec.attempts) == 4
    assert all(a.error is not None and a.result is None for a in rec.attempts)


@pytest.mark.parametrize(("fault", "error"), [("auth", AuthenticationFailed),
                                              ("credits", OutOfCredits)])  # fmt: skip
async def test_fatal_errors_stop_at_once(
    simulator: LLMSimulator, http: httpx.AsyncClient, fault: str, error: type[Exception]
) -> None:
    rec = Recorder()
    simulator.inject(Fault(fault))  # type: ignore[arg-type]
    with pytest.raises(error):
        await run(make(simulator, http, rec), rec)
    assert len(rec.attempts) == 1 and len(simulator.requests) == 1


async def test_slow_first_token_is_retried(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("slow_first_token", model=A, delay_s=1.0))
    attempt = await run(make(simulator, http, rec, first_token_s=0.15), rec)
    assert attempt.number == 2
    assert rec.attempts[0].error is not None and rec.attempts[0].error.kind == "timeout"


async def test_no_retry_after_text_reached_the_user(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("disconnect", model=A, after_chunks=2))
    with pytest.raises(StreamBroken) as caught:
        await run(make(simulator, http, rec), rec)
    assert len(simulator.requests) == 1, "a second answer must not be streamed after the first"
    assert len(rec.attempts) == 1 and rec.sleeps == []
    partial = rec.attempts[0].result
    assert partial is not None and partial.text == "".join(rec.deltas) != ""
    assert caught.value.partial == partial


async def test_broken_stream_before_any_text_is_retried(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    rec = Recorder()
    simulator.inject(Fault("malformed", model=A, after_chunks=0))
    attempt = await run(make(simulator, http, rec), rec)
    assert attempt.number == 2
    assert rec.attempts[0].error is not None and rec.deltas
