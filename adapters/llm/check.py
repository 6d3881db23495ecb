"""Is the LLM API reachable with this key? One minimal request (one output token) to one model.

The request goes through the bot's own provider client, once (no retries, no fallback), so the
answer says exactly what a real question would meet. It is not recorded in the ledger: it is a
check, not an answer (its cost is a prompt of a few tokens and one output token).
"""

from __future__ import annotations

from contextlib import aclosing

from adapters.checks import Finding, failed, passed
from bot.errors import (
    AuthenticationFailed,
    BadRequest,
    OutOfCredits,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from bot.llm.provider import Provider
from bot.llm.types import ChatMessage, ChatRequest, StreamResult

PART = "LLM"


async def probe(provider: Provider, base_url: str, model: str) -> Finding:
    request = ChatRequest(
        model=model, messages=(ChatMessage("user", "Reply with the word OK."),), max_tokens=1
    )
    result: StreamResult | None = None
    try:
        async with aclosing(provider.stream(request)) as events:
            async for event in events:
                if isinstance(event, StreamResult):
                    result = event
    except ProviderError as error:
        return _failure(error, base_url, model)
    latency = f"{result.latency_ms} ms" if result is not None else "no result"
    return passed(PART, f"{base_url} answered {model} ({latency})")


def _failure(error: ProviderError, base_url: str, model: str) -> Finding:
    said = error.detail or error.kind
    if isinstance(error, AuthenticationFailed):
        return failed(
            PART,
            f"{base_url} rejected LLM_API_KEY ({said})",
            "set LLM_API_KEY to a valid key for this provider",
            fatal=True,
        )
    if isinstance(error, OutOfCredits):
        return failed(
            PART,
            f"{base_url}: the account is out of credits ({said})",
            "top up the provider account",
        )
    if isinstance(error, BadRequest) and said.startswith("HTTP 404"):
        return failed(
            PART,
            f"{base_url}/chat/completions does not exist ({said})",
            "set LLM_BASE_URL to the API's OpenAI-compatible base, e.g. https://api.openai.com/v1",
            fatal=True,
        )
    if isinstance(error, BadRequest):
        return failed(
            PART,
            f"{base_url} refused a request to {model} ({said})",
            "check the model names in the routing file for this provider",
        )
    if isinstance(error, RateLimited | ProviderTimeout):
        return failed(PART, f"{base_url} is slow or rate limiting ({said})", "try again later")
    if isinstance(error, ProviderUnavailable) and said.split(":")[0].endswith("Error"):
        # an httpx transport error (ConnectError, ...), not an answer: nothing is listening
        return failed(
            PART,
            f"cannot reach {base_url} ({said})",
            "check LLM_BASE_URL and the network",
            fatal=True,
        )
    return failed(PART, f"{base_url} failed ({said})", "try again later; see the provider status")
