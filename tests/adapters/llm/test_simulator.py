"""The LLM simulator, observed over real loopback HTTP the way the provider client sees it."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.llm.simulator import DEFAULT_PROFILES, Accounting, Fault, LLMSimulator
from adapters.llm.simulator_profiles import pick_candidate
from tests.http import http_client

AUTH = {"Authorization": "Bearer sk-test"}
MINI = "openai/gpt-4o-mini"
QUESTION = "How do I reset my password for the billing dashboard?"


def chat(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MINI,
        "messages": [
            {"role": "system", "content": "You are a support bot."},
            {"role": "user", "content": QUESTION},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    return body | extra


@pytest.fixture
async def sim() -> AsyncIterator[LLMSimulator]:
    async with LLMSimulator(seed=7, speed=0) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: LLMSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(base_url=sim.base_url, headers=AUTH, timeout=5) as c:
        yield c


async def stream_lines(client: httpx.AsyncClient, body: dict[str, Any]) -> list[str]:
    async with client.stream("POST", "/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-simulator"] == "switchboard"
        return [line async for line in response.aiter_lines() if line]


def events(lines: list[str]) -> list[dict[str, Any]]:
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])


async def test_stream_chunk_shapes_and_done(client: httpx.AsyncClient) -> None:
    chunks = events(await stream_lines(client, chat()))
    first, *content, finish, usage = chunks
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert len(content) >= 2
    for chunk in chunks:
        assert chunk["id"] == first["id"] and chunk["id"].startswith("chatcmpl-sim-")
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == MINI and isinstance(chunk["created"], int)
    for chunk in content:
        (choice,) = chunk["choices"]
        assert choice["index"] == 0 and choice["finish_reason"] is None
        assert choice["delta"]["content"]
    assert finish["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert usage["choices"] == []
    assert text_of(chunks).startswith("[simulated] ")


async def test_usage_and_cost_match_profile_prices(client: httpx.AsyncClient) -> None:
    chunks = events(await stream_lines(client, chat()))
    usage, text = chunks[-1]["usage"], text_of(chunks)
    chars = len("You are a support bot.") + len(QUESTION)
    assert usage["prompt_tokens"] == math.ceil(chars / 4) + 2 * 4
    assert usage["completion_tokens"] == len(text.split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    low, high = DEFAULT_PROFILES[MINI].answer_tokens
    assert low <= usage["completion_tokens"] <= high
    expected = (
        Decimal(usage["prompt_tokens"]) * Decimal("0.15")
        + Decimal(usage["completion_tokens"]) * Decimal("0.60")
    ) / 1_000_000
    assert chunks[-1]["cost"] == pytest.approx(float(expected), rel=1e-12)


async def test_no_usage_chunk_unless_asked(client: httpx.AsyncClient) -> None:
    chunks = events(await stream_lines(client, chat(stream_options=None)))
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks)


async def test_plain_openai_mode_has_no_cost_and_no_router() -> None:
    async with (
        LLMSimulator(speed=0, report_cost=False) as sim,
        http_client(base_url=sim.base_url, headers=AUTH) as client,
    ):
        chunks = events(await stream_lines(client, chat()))
        assert "usage" in chunks[-1] and "cost" not in chunks[-1]
        reply = (await client.post("/chat/completions", json=chat(stream=False))).json()
        assert not {"cost", "status", "provider"} & reply.keys()
        routed = chat(model="@edenai", router_candidates=[MINI])
        assert (await client.post("/chat/completions", json=routed)).status_code == 400


async def test_non_streaming_shape(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", json=chat(stream=False))
    assert response.status_code == 200 and response.headers["x-simulator"] == "switchboard"
    reply = response.json()
    assert reply["object"] == "chat.completion" and reply["model"] == MINI
    assert reply["id"].startswith("chatcmpl-sim-")
    (choice,) = reply["choices"]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].startswith("[simulated] ")
    assert reply["usage"]["completion_tokens"] == len(choice["message"]["content"].split())
    assert reply["status"] == "success" and reply["provider"] == "openai"
    profile = DEFAULT_PROFILES[MINI]
    expected = profile.cost_usd(
        reply["usage"]["prompt_tokens"], reply["usage"]["completion_tokens"]
    )
    assert reply["cost"] == float(expected)


async def test_stream_and_non_stream_say_the_same(client: httpx.AsyncClient) -> None:
    streamed = text_of(events(await stream_lines(client, chat())))
    reply = (await client.post("/chat/completions", json=chat(stream=False))).json()
    assert reply["choices"][0]["message"]["content"] == streamed


async def test_router_picks_a_candidate_and_reports_it(client: httpx.AsyncClient) -> None:
    candidates = ["openai/gpt-4o", "google/gemini-2.0-flash", "anthropic/claude-haiku-4-5"]
    body = chat(model="@edenai", router_candidates=candidates)
    chunks = events(await stream_lines(client, body))
    expected = pick_candidate(candidates, QUESTION, 7)
    assert {c["model"] for c in chunks} == {expected}
    usage = chunks[-1]["usage"]
    cost = DEFAULT_PROFILES[expected].cost_usd(usage["prompt_tokens"], usage["completion_tokens"])
    assert chunks[-1]["cost"] == float(cost)
    for n in range(6):
        question = f"question number {n}"
        asked = body | {"stream": False, "messages": [{"role": "user", "content": question}]}
        reply = (await client.post("/chat/completions", json=asked)).json()
        assert reply["model"] == pick_candidate(candidates, question, 7)
    assert len({pick_candidate(candidates, f"question number {n}", 7) for n in range(12)}) > 1


async def test_metadata_header_adds_eden_block(client: httpx.AsyncClient) -> None:
    body = chat(stream=False, model="@edenai", router_candidates=[MINI])
    headers = {"x-edenai-metadata": "enabled"}
    reply = (await client.post("/chat/completions", json=body, headers=headers)).json()
    assert reply["edenai_metadata"] == {"strategy": "router", "served_model": MINI, "attempts": 1}


@pytest.mark.parametrize(
    "change",
    [
        {"messages": []},
        {"messages": None},
        {"messages": "hello"},
        {"messages": [{"content": "no role"}]},
        {"model": None},
        {"stream": "yes"},
        {"max_tokens": 0},
        {"fallbacks": [MINI, MINI, MINI, MINI]},
        {"model": "@edenai"},
        {"model": "@edenai", "router_candidates": []},
        {"model": "@edenai", "router_candidates": [MINI] * 11},
        {"model": "@edenai", "router_candidates": [MINI, "acme/unknown"]},
    ],
)
async def test_invalid_requests_get_422(client: httpx.AsyncClient, change: dict[str, Any]) -> None:
    body = {k: v for k, v in (chat() | change).items() if v is not None}
    response = await client.post("/chat/completions", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


async def test_unknown_model_missing_auth_and_health(
    sim: LLMSimulator, client: httpx.AsyncClient
) -> None:
    response = await client.post("/chat/completions", json=chat(model="acme/nope"))
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Model acme/nope not found",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }
    unauth = await client.post("/chat/completions", json=chat(), headers={"Authorization": ""})
    assert unauth.status_code == 401 and unauth.json() == {"detail": "Invalid token"}
    health = await client.get(sim.base_url.removesuffix("/v3") + "/healthz")
    assert health.status_code == 200 and health.headers["x-simulator"] == "switchboard"


@pytest.mark.parametrize(
    ("fault", "status", "body"),
    [
        (
            Fault("rate_limit", retry_after_s=2.5),
            429,
            {
                "error": {
                    "message": "Rate limit exceeded",
                    "type": "rate_limit_exceeded",
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        (
            Fault("server_error", status=503),
            503,
            {"error": {"message": "Upstream provider error", "type": "server_error"}},
        ),
        (Fault("auth"), 401, {"detail": "Invalid token"}),
        (Fault("credits"), 402, {"detail": "Insufficient credits"}),
        (Fault("too_large"), 413, {"error": {"message": "Request too large"}}),
        (
            Fault("bad_model"),
            400,
            {
                "error": {
                    "message": f"Model {MINI} not found",
                    "type": "invalid_request_error",
                    "code": "model_not_found",
                }
            },
        ),
    ],
)
async def test_refusing_faults_then_recovery(
    sim: LLMSimulator,
    client: httpx.AsyncClient,
    fault: Fault,
    status: int,
    body: dict[str, Any],
) -> None:
    sim.inject(fault)
    response = await client.post("/chat/completions", json=chat())
    assert response.status_code == status and response.json() == body
    if fault.kind == "rate_limit":
        assert response.headers["Retry-After"] == "2.5"
    assert (await client.post("/chat/completions", json=chat())).status_code == 200


async def test_faults_count_down_and_match_by_model(
    sim: LLMSimulator, client: httpx.AsyncClient
) -> None:
    sim.inject(Fault("server_error", model="openai/gpt-4o", times=2, status=502))
    assert (await client.post("/chat/completions", json=chat())).status_code == 200
    gpt4o = chat(model="openai/gpt-4o", stream=False)
    statuses = [(await client.post("/chat/completions", json=gpt4o)).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]


async def test_slow_first_token_is_not_scaled_by_speed(
    sim: LLMSimulator, client: httpx.AsyncClient
) -> None:
    sim.inject(Fault("slow_first_token", delay_s=0.3))
    started = time.monotonic()
    async with client.stream("POST", "/chat/completions", json=chat()) as response:
        assert response.status_code == 200
        first = await anext(response.aiter_lines())
        waited = time.monotonic() - started
    assert first.startswith("data: ") and waited >= 0.3


async def test_disconnect_mid_stream_raises_in_httpx(
    sim: LLMSimulator, client: httpx.AsyncClient
) -> None:
    sim.inject(Fault("disconnect", after_chunks=3))
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("POST", "/chat/completions", json=chat()) as response:
            async for line in response.aiter_lines():
                received.extend([line] if line else [])
    content = [json.loads(line.removeprefix("data: ")) for line in received]
    assert len(content) == 1 + 3  # the role chunk, then after_chunks content chunks
    assert "data: [DONE]" not in received and all("usage" not in c for c in content)
    sim.inject(Fault("disconnect"))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/chat/completions", json=chat(stream=False))


async def test_malformed_line_then_stream_continues(
    sim: LLMSimulator, client: httpx.AsyncClient
) -> None:
    clean = await stream_lines(client, chat())
    sim.inject(Fault("malformed", after_chunks=2))
    lines = await stream_lines(client, chat())
    assert lines[3] == "data: {not json"
    assert lines[-1] == "data: [DONE]"
    assert contents([line for line in lines if line != "data: {not json"]) == contents(clean)
    sim.inject(Fault("malformed"))
    broken = await client.post("/chat/completions", json=chat(stream=False))
    with pytest.raises(json.JSONDecodeError):
        broken.json()


async def test_max_tokens_cuts_with_finish_reason_length(client: httpx.AsyncClient) -> None:
    chunks = events(await stream_lines(client, chat(max_tokens=5)))
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert len(text_of(chunks).split()) == 5


async def test_answer_override_is_streamed_exactly() -> None:
    answer = "Hello  there,\nfriend! "
    async with (
        LLMSimulator(speed=0, answer_override=lambda body: answer) as sim,
        http_client(base_url=sim.base_url, headers=AUTH) as client,
    ):
        chunks = events(await stream_lines(client, chat()))
    assert text_of(chunks) == answer
    assert chunks[-1]["usage"]["completion_tokens"] == 3


async def answers(seed: int, model: str = MINI) -> list[list[str]]:
    async with (
        LLMSimulator(seed=seed, speed=0) as sim,
        http_client(base_url=sim.base_url, headers=AUTH) as client,
    ):
        return [await stream_lines(client, chat(model=model)) for _ in range(2)]


def contents(lines: list[str]) -> list[Any]:
    return [json.loads(line[6:])["choices"] for line in lines[:-1]]


async def test_same_seed_same_bytes_other_seed_other_text() -> None:
    first, second, other = await answers(3), await answers(3), await answers(4)
    assert contents(first[0]) == contents(first[1]) == contents(second[0])
    assert text_of(events(first[0])) != text_of(events(other[0]))
    slow = text_of(events((await answers(3, "anthropic/claude-opus-4-5"))[0]))
    assert slow != text_of(events(first[0]))


async def test_recorded_requests_keep_everything(
    sim: LLMSimulator, client: httpx.AsyncClient
) -> None:
    body = chat(session_id="thread-42", fallbacks=["openai/gpt-4o"], metadata={"x": 1})
    await stream_lines(client, body)
    await client.post("/chat/completions", json={"model": MINI}, headers={"x-session-id": "s"})
    first, second = sim.requests
    assert first.path == "/v3/chat/completions"
    assert first.body == body and first.body["session_id"] == "thread-42"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert second.headers["x-session-id"] == "s" and second.body == {"model": MINI}


async def test_speed_paces_the_stream() -> None:
    async with (
        LLMSimulator(speed=0.05) as sim,
        http_client(base_url=sim.base_url, headers=AUTH) as client,
    ):
        started = time.monotonic()
        chunks = events(await stream_lines(client, chat(model="anthropic/claude-opus-4-5")))
        elapsed = time.monotonic() - started
    profile = DEFAULT_PROFILES["anthropic/claude-opus-4-5"]
    tokens = chunks[-1]["usage"]["completion_tokens"]
    nominal = profile.first_token_ms / 1000 + tokens / profile.tokens_per_s
    assert 0.05 * nominal * 0.6 <= elapsed <= 0.05 * nominal * 1.5 + 0.5


def test_default_profiles_cover_the_catalogue() -> None:
    prices = {
        "openai/gpt-4o-mini": ("0.15", "0.60"),
        "openai/gpt-4o": ("2.50", "10.00"),
        "google/gemini-2.0-flash": ("0.10", "0.40"),
        "google/gemini-2.5-pro": ("1.25", "10.00"),
        "anthropic/claude-haiku-4-5": ("1.00", "5.00"),
        "anthropic/claude-sonnet-4-5": ("3.00", "15.00"),
        "anthropic/claude-opus-4-5": ("5.00", "25.00"),
        "mistral/mistral-small-latest": ("0.10", "0.30"),
    }
    for name, (price_in, price_out) in prices.items():
        profile = DEFAULT_PROFILES[name]
        assert profile.input_usd_per_mtok == Decimal(price_in)
        assert profile.output_usd_per_mtok == Decimal(price_out)
    mini, opus = DEFAULT_PROFILES[MINI], DEFAULT_PROFILES["anthropic/claude-opus-4-5"]
    assert mini.first_token_ms < opus.first_token_ms and mini.tokens_per_s > opus.tokens_per_s
    assert mini.answer_tokens[1] < opus.answer_tokens[1]


async def test_sse_extras_send_comments_names_ids_and_split_data() -> None:
    async with (
        LLMSimulator(seed=7, speed=0, sse_extras=True) as sim,
        http_client(base_url=sim.base_url, headers=AUTH, timeout=5) as c,
    ):
        lines = await stream_lines(c, chat())
    assert lines.count(": ping") >= 3
    assert "event: completion" in lines and "id: 1" in lines
    assert lines[-1] == "data: [DONE]"
    data = [line for line in lines if line.startswith("data: ")]
    assert "data: {" in data, "each JSON object spans several data lines"


async def test_stream_error_fault_sends_the_providers_error_and_no_done() -> None:
    async with (
        LLMSimulator(seed=7, speed=0) as sim,
        http_client(base_url=sim.base_url, headers=AUTH, timeout=5) as c,
    ):
        sim.inject(Fault("stream_error", after_chunks=1, code=429, message="key {api_key}"))
        sim.inject(Fault("stream_error", after_chunks=0, error_type="overloaded_error",
                         message="Overloaded", anthropic=True))  # fmt: skip
        openai_style = await stream_lines(c, chat())
        anthropic_style = await stream_lines(c, chat())
    error = json.loads(openai_style[-1].removeprefix("data: "))
    assert error["error"] == {"message": "key sk-test", "type": "server_error", "code": 429}
    assert "data: [DONE]" not in openai_style
    assert anthropic_style[-2:] == [
        "event: error",
        'data: {"type": "error", "error": {"message": "Overloaded", "type": "overloaded_error"}}',
    ]


async def test_accounting_reports_cache_reasoning_and_openrouter_cost() -> None:
    extra = Accounting(cached_tokens=10, cache_write_tokens=5, reasoning_tokens=7,
                       cost_in_usage=True)  # fmt: skip
    async with (
        LLMSimulator(seed=7, speed=0, report_cost=False, accounting=extra) as sim,
        http_client(base_url=sim.base_url, headers=AUTH, timeout=5) as c,
    ):
        chunks = events(await stream_lines(c, chat()))
    last = chunks[-1]
    usage = last["usage"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 10, "cache_write_tokens": 5}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 7}
    assert usage["completion_tokens"] == len(text_of(chunks).split()) + 7  # reasoning is billed
    expected = DEFAULT_PROFILES[MINI].cost_usd(usage["prompt_tokens"], usage["completion_tokens"])
    assert Decimal(str(usage["cost"])) == expected
    assert "cost" not in last  # OpenRouter has no top-level cost
