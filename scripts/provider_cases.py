"""What the provider client makes of the wire cases of issue 11 (item 9), one line each.

Each case is a streamed chat completion, byte for byte as a provider sends it, fed to the real
`ProviderClient` through httpx's MockTransport and priced with the real `Pricer`. Run it
against any checkout to compare before and after:

    .venv/bin/python scripts/provider_cases.py                  # the installed checkout
    PYTHONPATH=/path/to/other/checkout .venv/bin/python scripts/provider_cases.py
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from adapters.llm.openai_client import ProviderClient
from bot.llm.errors import ProviderError, StreamBroken
from bot.llm.pricing import Pricer, price_attempt
from bot.llm.types import ChatMessage, ChatRequest, StreamResult

TEXT = [{"choices": [{"delta": {"content": "Open Settings, "}}]},
        {"choices": [{"delta": {"content": "then Security."}}]}]  # fmt: skip
STOP = {"choices": [{"delta": {}, "finish_reason": "stop"}]}


def sse(*chunks: Any, done: bool = True) -> bytes:
    body = b"".join(
        c if isinstance(c, bytes) else b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks
    )
    return body + (b"data: [DONE]\n\n" if done else b"")


def usage_chunk(usage: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"choices": [], "usage": usage, **top}


GPT4O_CACHED = {"prompt_tokens": 2000, "completion_tokens": 100,
                "prompt_tokens_details": {"cached_tokens": 1500}}  # fmt: skip
REASONING = {"prompt_tokens": 1000, "completion_tokens": 3000,
             "completion_tokens_details": {"reasoning_tokens": 2500}}  # fmt: skip
LITELLM_WRITE = {"prompt_tokens": 10_000, "completion_tokens": 500,
                 "cache_creation_input_tokens": 8000, "cache_read_input_tokens": 0}  # fmt: skip
ANTHROPIC_WRITE = {"input_tokens": 2000, "output_tokens": 500,
                   "cache_creation_input_tokens": 8000, "cache_read_input_tokens": 0}  # fmt: skip
MULTILINE = b"".join(
    b": ping\n\nevent: completion\nid: %d\n" % i
    + b"".join(b"data: " + line.encode() + b"\n" for line in json.dumps(c, indent=1).splitlines())
    + b"\n"
    for i, c in enumerate([*TEXT, STOP, usage_chunk({"prompt_tokens": 20, "completion_tokens": 5})])
)
OVERLOADED = (b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
              b'"message": "Overloaded"}}\n\n')  # fmt: skip

CASES: list[tuple[str, str, bytes]] = [
    ("gpt-4o, 1,500 of 2,000 prompt tokens cached", "openai/gpt-4o",
     sse(*TEXT, STOP, usage_chunk(GPT4O_CACHED))),
    ("o4-mini, 2,500 of 3,000 output tokens reasoning", "openai/o4-mini",
     sse(*TEXT, STOP, usage_chunk(REASONING))),
    ("sonar-deep-research, same usage ($3/M reasoning)", "perplexity/sonar-deep-research",
     sse(*TEXT, STOP, usage_chunk(REASONING))),
    ("claude-sonnet-4-5 cache write, LiteLLM usage", "anthropic/claude-sonnet-4-5",
     sse(*TEXT, STOP, usage_chunk(LITELLM_WRITE))),
    ("claude-sonnet-4-5 cache write, Anthropic usage", "anthropic/claude-sonnet-4-5",
     sse(*TEXT, STOP, usage_chunk(ANTHROPIC_WRITE))),
    ("OpenRouter usage.cost 0.0041 (gpt-4o cached)", "openai/gpt-4o",
     sse(*TEXT, STOP, usage_chunk({**GPT4O_CACHED, "cost": 0.0041}))),
    ("Eden cost 0.0042 (gpt-4o cached)", "openai/gpt-4o",
     sse(*TEXT, STOP, usage_chunk(GPT4O_CACHED, cost=0.0042))),
    ("comments, event names, ids, multi-line data", "openai/gpt-4o", MULTILINE + sse()),
    ("error chunk after text", "openai/gpt-4o",
     sse(*TEXT, {"error": {"code": "server_error",
                           "message": "Provider disconnected unexpectedly"}}, done=False)),
    ("Anthropic error event before text", "anthropic/claude-sonnet-4-5",
     sse(OVERLOADED, done=False)),
    ("rate-limit error chunk before text", "openai/gpt-4o",
     sse({"error": {"code": "rate_limit_exceeded", "message": "Rate limit reached"}},
         done=False)),
    ("error chunk echoing the API key", "openai/gpt-4o",
     sse({"error": {"code": 401, "message": "Incorrect API key: sk-live-a1b2c3d4e5f6"}},
         done=False)),
]  # fmt: skip


async def run(model: str, body: bytes) -> str:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = ProviderClient(http, "http://127.0.0.1:9/v1", "sk-live-a1b2c3d4e5f6")
        request = ChatRequest(model, (ChatMessage("user", "How do I turn on 2FA?"),))
        result: StreamResult | None = None
        try:
            async for item in client.stream(request):
                if isinstance(item, StreamResult):
                    result = item
        except ProviderError as error:
            partial = " (partial text kept)" if isinstance(error, StreamBroken) else ""
            return f"{type(error).__name__}{partial}: {error.detail}"
    assert result is not None
    cost = price_attempt(Pricer(), model, result, prompt_tokens=10)
    usage = cost.usage
    parts = ", ".join(
        f"{name}={getattr(usage, name)}"
        for name in ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
        if getattr(usage, name, 0)
    )
    counts = f"{usage.input_tokens} in / {usage.output_tokens} out" if usage else "no usage"
    return (
        f"{cost.nano_usd:,} nano-USD {cost.source.value} ({counts}{', ' + parts if parts else ''})"
    )


async def main() -> None:
    for name, model, body in CASES:
        print(f"{name:50} {await run(model, body)}")


if __name__ == "__main__":
    asyncio.run(main())
