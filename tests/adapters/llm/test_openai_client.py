"""The streaming provider client over real HTTP against the loopback simulator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.llm.openai_client import ProviderClient, Timeouts
from adapters.llm.simulator import DEFAULT_PROFILES, Accounting, Fault, LLMSimulator, ModelProfile
from adapters.llm.simulator_profiles import count_prompt_tokens
from adapters.llm.wire import error_for_status
from bot.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    OutOfCredits,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestTooLarge,
    StreamBroken,
)
from bot.llm.pricing import CostSource, Pricer, price_attempt
from bot.llm.types import ChatMessage, ChatRequest, StreamResult, Usage
from bot.redaction import Redactor
from tests.http import http_client

MESSAGES = (ChatMessage("system", "Be brief."), ChatMessage("user", "How do I reset my password?"))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client() as client:
        yield client


def client_for(
    sim: LLMSimulator,
    http: httpx.AsyncClient,
    first_token_s: float = 5.0,
    key: str = "k",
    **extras: Any,
) -> ProviderClient:
    return ProviderClient(http, sim.base_url, key, Timeouts(2.0, first_token_s, 20.0), **extras)


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


async def test_first_token_deadline_covers_the_wait_for_response_headers(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    # A proxy (LiteLLM) sends no headers until its upstream answers: issue 21 item 6.
    simulator.inject(Fault("slow_headers", delay_s=3.0))
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout) as caught:
        await stream(client_for(simulator, http, first_token_s=0.2), request(), Collector())
    assert time.perf_counter() - started < 1.5  # the deadline, not the proxy's 3 s
    assert "first token" in caught.value.detail and caught.value.retryable


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


# --- cached and reasoning tokens, reported costs (issue 11, item 9) ------------------------

# One user message of 7,984 characters: ceil(7984 / 4) + 4 = 2,000 prompt tokens.
PROMPT_2000 = (ChatMessage("user", "x" * 7984),)


def words(count: int) -> Any:
    return lambda body: " ".join(["word"] * count)


async def test_cached_prompt_tokens_are_read_and_priced_at_the_cache_rate(
    http: httpx.AsyncClient,
) -> None:
    # The gpt-4o call: 1,500 of 2,000 prompt tokens cached, 100 output tokens.
    cached = Accounting(cached_tokens=1500)
    async with LLMSimulator(speed=0, report_cost=False, accounting=cached,
                            answer_override=words(100)) as sim:  # fmt: skip
        result = await stream(client_for(sim, http), ChatRequest("openai/gpt-4o", PROMPT_2000),
                              Collector())  # fmt: skip
    assert result.usage == Usage(2000, 100, cache_read_tokens=1500)
    cost = price_attempt(Pricer(), "openai/gpt-4o", result, prompt_tokens=0)
    # 500 x $2.50/M + 1,500 x $1.25/M + 100 x $10/M; all 2,000 at $2.50/M was 6,000,000.
    assert (cost.nano_usd, cost.source) == (4_125_000, CostSource.PRICED)


async def test_reasoning_tokens_are_read_and_priced_as_output(http: httpx.AsyncClient) -> None:
    o4_mini = ModelProfile("openai/o4-mini", Decimal("1.10"), Decimal("4.40"), 0, 1000.0, (1, 2))
    async with LLMSimulator(speed=0, report_cost=False, profiles={o4_mini.name: o4_mini},
                            accounting=Accounting(reasoning_tokens=2500),
                            answer_override=words(500)) as sim:  # fmt: skip
        prompt = (ChatMessage("user", "x" * 3984),)  # 1,000 prompt tokens
        result = await stream(client_for(sim, http), ChatRequest(o4_mini.name, prompt),
                              Collector())  # fmt: skip
    assert result.usage == Usage(1000, 3000, reasoning_tokens=2500)
    cost = price_attempt(Pricer(), o4_mini.name, result, prompt_tokens=0)
    assert (cost.nano_usd, cost.source) == (1000 * 1100 + 3000 * 4400, CostSource.PRICED)
    assert cost.nano_usd == 14_300_000


async def test_openrouter_usage_cost_wins_over_pricing(http: httpx.AsyncClient) -> None:
    # OpenRouter: no top-level cost, the charge in usage.cost. Before, it was ignored and the
    # call priced from its usage (4,125,000 here); now the provider's own figure is kept.
    openrouter = Accounting(cached_tokens=1500, cost_in_usage=True)
    async with LLMSimulator(speed=0, report_cost=False, accounting=openrouter,
                            answer_override=words(100)) as sim:  # fmt: skip
        result = await stream(client_for(sim, http), ChatRequest("openai/gpt-4o", PROMPT_2000),
                              Collector())  # fmt: skip
    # The simulator charges its list price, cache or not: (2000 x 2.50 + 100 x 10) / 1e6.
    assert result.reported_cost_usd == Decimal("0.006")
    cost = price_attempt(Pricer(), "openai/gpt-4o", result, prompt_tokens=0)
    assert (cost.nano_usd, cost.source) == (6_000_000, CostSource.REPORTED)
    assert cost.usage is not None and cost.usage.cache_read_tokens == 1500


async def test_eden_cost_wins_over_cache_aware_pricing(http: httpx.AsyncClient) -> None:
    async with LLMSimulator(speed=0, accounting=Accounting(cached_tokens=1500),
                            answer_override=words(100)) as sim:  # fmt: skip
        result = await stream(client_for(sim, http), ChatRequest("openai/gpt-4o", PROMPT_2000),
                              Collector())  # fmt: skip
    cost = price_attempt(Pricer(), "openai/gpt-4o", result, prompt_tokens=0)
    assert (cost.nano_usd, cost.source) == (6_000_000, CostSource.REPORTED)
    assert result.usage == Usage(2000, 100, cache_read_tokens=1500)


# --- the whole SSE format, and errors sent inside the stream -------------------------------


async def test_comments_event_names_ids_and_multi_line_data_are_parsed(
    http: httpx.AsyncClient,
) -> None:
    # Before: `data: {` alone is not JSON, so this stream failed as "malformed stream chunk".
    async with LLMSimulator(seed=3, speed=0, sse_extras=True) as sim:
        deltas = Collector()
        result = await stream(client_for(sim, http), request(), deltas)
    assert result.text.startswith("[simulated]") and "".join(deltas.deltas) == result.text
    assert result.usage is not None and result.reported_cost_usd is not None
    assert result.finish_reason == "stop"


async def test_error_chunk_before_any_text_is_the_providers_retryable_error(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    # Anthropic's shape: `event: error` + {"type": "error", "error": {"type", "message"}}.
    simulator.inject(Fault("stream_error", after_chunks=0, error_type="overloaded_error",
                           message="Overloaded", anthropic=True))  # fmt: skip
    deltas = Collector()
    with pytest.raises(ProviderUnavailable) as caught:
        await stream(client_for(simulator, http), request(), deltas)
    assert deltas.deltas == []
    assert caught.value.retryable and not isinstance(caught.value, StreamBroken)
    assert caught.value.detail == "in-stream error (overloaded_error): Overloaded"


async def test_rate_limit_error_chunk_is_rate_limited(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    simulator.inject(Fault("stream_error", after_chunks=0, error_type="requests",
                           code="rate_limit_exceeded", message="Rate limit reached"))  # fmt: skip
    with pytest.raises(RateLimited) as caught:
        await stream(client_for(simulator, http), request(), Collector())
    assert "Rate limit reached" in caught.value.detail


async def test_error_chunk_after_text_is_a_broken_stream_with_the_providers_message(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    # Before: "stream ended without [DONE]"; the provider's message was lost.
    simulator.inject(Fault("stream_error", after_chunks=2, code="server_error",
                           message="Provider disconnected unexpectedly"))  # fmt: skip
    deltas = Collector()
    with pytest.raises(StreamBroken) as caught:
        await stream(client_for(simulator, http), request(), deltas)
    assert "Provider disconnected unexpectedly" in caught.value.detail
    partial = caught.value.partial
    assert partial is not None and partial.text == "".join(deltas.deltas) != ""


async def test_a_key_echoed_in_an_error_chunk_is_redacted(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    key = "sk-live-a1b2c3d4e5f6"
    simulator.inject(Fault("stream_error", after_chunks=0, code=401,
                           message="Incorrect API key provided: {api_key}"))  # fmt: skip
    with pytest.raises(AuthenticationFailed) as caught:
        await stream(client_for(simulator, http, key=key), request(), Collector())
    assert key not in caught.value.detail and key not in str(caught.value)
    assert caught.value.detail.endswith("Incorrect API key provided: [redacted]")


def test_a_key_echoed_in_an_error_response_is_redacted() -> None:
    key = "sk-live-a1b2c3d4e5f6"
    response = httpx.Response(401, text=f'{{"error": "bad key {key}"}}')
    error = error_for_status(response, Redactor.of([key]))
    assert isinstance(error, AuthenticationFailed)
    assert error.detail == 'HTTP 401: {"error": "bad key [redacted]"}'


async def test_an_error_object_instead_of_a_stream_keeps_its_message(
    http: httpx.AsyncClient,
) -> None:
    # Some gateways answer 200 with a JSON error rather than an event stream.
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"type": "invalid_request_error", "message": "stream not supported"}}
        return httpx.Response(200, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mocked:
        client = ProviderClient(mocked, "http://127.0.0.1:9/v1", "k")
        with pytest.raises(BadRequest) as caught:
            await stream(client, request(), Collector())
    assert "stream not supported" in caught.value.detail


# --- extra headers and query parameters -----------------------------------------------------


async def test_extra_headers_and_query_parameters_are_sent(
    simulator: LLMSimulator, http: httpx.AsyncClient
) -> None:
    client = client_for(
        simulator,
        http,
        extra_headers={"HTTP-Referer": "https://example.com", "X-Title": "Switchboard"},
        extra_query=[("api-version", "2024-10-21")],
    )
    assert (await stream(client, request(), Collector())).text
    sent = simulator.requests[-1]
    assert sent.path == "/v3/chat/completions"
    assert sent.query == {"api-version": "2024-10-21"}
    assert sent.headers["http-referer"] == "https://example.com"
    assert sent.headers["x-title"] == "Switchboard"
    assert sent.headers["authorization"] == "Bearer k"
