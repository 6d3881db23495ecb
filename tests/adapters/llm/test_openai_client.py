"""The streaming provider client over real HTTP against the loopback simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from adapters.llm.openai_client import ProviderClient, Timeouts
from adapters.llm.simulator import DEFAULT_PROFILES, Fault, LLMSimulator
from adapters.llm.simulator_profiles import count_prompt_tokens
from bot.errors import (
    AuthenticationFailed,
    BadRequest,
    OutOfCredits,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestTooLarge,
    StreamBroken,
)
from bot.llm.types import ChatMessage, ChatRequest, StreamResult

MESSAGES = (ChatMessage("system", "Be brief."), ChatMessage("user", "How do I reset my password?"))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def client_for(
    sim: LLMSimulator, http: httpx.AsyncClient, first_token_s: float = 5.0, key: str = "k"
) -> ProviderClient:
    return ProviderClient(http, sim.base_url, key, Timeouts(2.0, first_token_s, 20.0))


class Collector:
    def __init__(self) -> None:
        self.deltas: list[str] = []

    async def __call__(self, text: str) -> None:
        self.deltas.append(text)


async def stream(client: ProviderClient, req: ChatRequest, deltas: Collector) -> StreamResult:
    """Run the client's stream to the end: deltas into `deltas`, the final result returned."""
    result = None
    async for item in client.stream(req):
        if isinstance(item, str):
            await deltas(item)
        else:
            result = item
    assert result is not None
    return result


def request(model: str = "openai/gpt-4o-mini", **extra: object) -> ChatRequest:
    return ChatRequest(model, MESSAGES, session_id="thread-42", max_tokens=500, extra_body=extra)


async def test_streams_deltas_usage_and_eden_cost(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    deltas = Collector()
    result = await stream(client_for(simulator, http), request(), deltas)
    assert len(deltas.deltas) > 1, "the answer should arrive in several deltas"
    assert "".join(deltas.deltas) == result.text
    assert result.text.startswith("[simulated]")
    assert result.model_served == "openai/gpt-4o-mini"
    assert result.finish_reason == "stop"
    assert result.usage is not None
    sent = [{"role": m.role, "content": m.content} for m in MESSAGES]
    assert result.usage.input_tokens == count_prompt_tokens(sent)
    assert result.usage.output_tokens == len(result.text.split())
    profile = DEFAULT_PROFILES["openai/gpt-4o-mini"]
    expected = profile.cost_usd(result.usage.input_tokens, result.usage.output_tokens)
    assert result.reported_cost_usd is not None
    assert abs(result.reported_cost_usd - expected) < Decimal("1e-12")
    assert result.ttft_ms is not None and result.ttft_ms <= result.latency_ms


async def test_plain_openai_shape_has_usage_but_no_cost(http: httpx.AsyncClient) -> None:
    async with LLMSimulator(seed=3, speed=0, report_cost=False) as sim:
        result = await stream(client_for(sim, http), request("openai/gpt-4o"), Collector())
    assert result.text and result.usage is not None
    assert result.reported_cost_usd is None
    assert result.model_served == "openai/gpt-4o"


async def test_request_carries_session_usage_option_and_extra_body(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    extra = {"router_candidates": ["openai/gpt-4o-mini", "openai/gpt-4o"],
             "fallbacks": ["google/gemini-2.0-flash"]}  # fmt: skip
    result = await stream(client_for(simulator, http), request("@edenai", **extra), Collector())
    body = simulator.requests[-1].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["session_id"] == "thread-42"
    assert body["router_candidates"] == extra["router_candidates"]
    assert body["fallbacks"] == extra["fallbacks"]
    assert body["max_tokens"] == 500
    assert simulator.requests[-1].headers["authorization"] == "Bearer k"
    # The served model comes from the stream: the router's choice, not "@edenai".
    assert result.model_served in extra["router_candidates"]


async def test_rate_limit_carries_retry_after(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    simulator.inject(Fault("rate_limit", retry_after_s=2.5))
    with pytest.raises(RateLimited) as caught:
        await stream(client_for(simulator, http), request(), Collector())
    assert caught.value.retry_after_s == 2.5
    assert caught.value.retryable


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable_unavailable(
    simulator: LLMSimulator, http: httpx.AsyncClient, status: int
) -> None:
    simulator.inject(Fault("server_error", status=status))
    with pytest.raises(ProviderUnavailable) as caught:
        await stream(client_for(simulator, http), request(), Collector())
    assert caught.value.retryable
    assert f"HTTP {status}" in caught.value.detail


async def test_slow_first_token_times_out(simulator: LLMSimulator, http: httpx.AsyncClient) -> None:
    simulator.inject(Fault("slow_first_token", delay_s=2.0))
    deltas = Collector()
    with pytest.raises(ProviderTimeout) as caught:
        await stream(client_for(simulator, http, first_token_s=0.2), request(), deltas)
    assert deltas.deltas == []
    assert caught.value.retryable


async def test_disconnect_after_first_token_is_a_broken_stream_with_partial_text(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    simulator.inject(Fault("disconnect", after_chunks=2))
    deltas = Collector()
    with pytest.raises(StreamBroken) as caught:
        await stream(client_for(simulator, http), request(), deltas)
    partial = caught.value.partial
    assert partial is not None and partial.text == "".join(deltas.deltas) != ""
    assert partial.usage is None and partial.reported_cost_usd is None
    assert partial.model_served == "openai/gpt-4o-mini"


async def test_disconnect_before_any_text_is_unavailable(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    simulator.inject(Fault("disconnect", after_chunks=0))
    deltas = Collector()
    with pytest.raises(ProviderUnavailable) as caught:
        await stream(client_for(simulator, http), request(), deltas)
    assert not isinstance(caught.value, StreamBroken)
    assert deltas.deltas == []


async def test_malformed_chunk_breaks_the_stream(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    simulator.inject(Fault("malformed", after_chunks=1))
    deltas = Collector()
    with pytest.raises(StreamBroken) as caught:
        await stream(client_for(simulator, http), request(), deltas)
    assert "malformed" in caught.value.detail
    assert caught.value.partial is not None and caught.value.partial.text


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ("auth", AuthenticationFailed, "API key"),
        ("credits", OutOfCredits, "credits"),
        ("too_large", RequestTooLarge, "too long"),
        ("bad_model", BadRequest, "model settings"),
    ],
)
async def test_refusals_map_to_user_safe_errors(
    simulator: LLMSimulator,
    http: httpx.AsyncClient,
    fault: str,
    error: type[Exception],
    words: str,
) -> None:
    simulator.inject(Fault(fault))  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        await stream(client_for(simulator, http, key="sk-secret-value"), request(), Collector())
    message = str(caught.value)
    assert words in message
    assert "sk-secret-value" not in message and "HTTP" not in message
    assert not caught.value.retryable  # type: ignore[attr-defined]


async def test_missing_key_is_an_auth_failure(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    with pytest.raises(AuthenticationFailed):
        await stream(client_for(simulator, http, key=""), request(), Collector())


async def test_unknown_model_is_a_bad_request(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    with pytest.raises(BadRequest) as caught:
        await stream(client_for(simulator, http), request("acme/no-such-model"), Collector())
    assert "model_not_found" in caught.value.detail


async def test_connection_refused_is_unavailable(http: httpx.AsyncClient) -> None:
    async with LLMSimulator(speed=0) as sim:
        url = sim.base_url
    client = ProviderClient(http, url, "k", Timeouts(1.0, 1.0, 2.0))
    with pytest.raises(ProviderUnavailable):
        await stream(client, request(), Collector())


async def test_key_with_trailing_newline_still_authenticates(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    result = await stream(
        client_for(simulator, http, key="k-from-a-file\n"), request(), Collector()
    )
    assert result.text
    assert simulator.requests[-1].headers["authorization"] == "Bearer k-from-a-file"
