"""The OpenAI wire format: the request bodies we send (`chat_body`, `embeddings_body`) and
what a provider's JSON means (usage, reported cost, embeddings, errors).

A provider gets only the parameters it takes: OpenAI refuses any argument it does not document
(400 "Unrecognized request argument supplied"), so Eden AI's `session_id` and routing
parameters (`router_candidates`, `fallbacks`) go to an Eden AI provider alone.

Usage and cost come in three shapes: OpenAI's (`prompt_tokens`, with cache reads in
`prompt_tokens_details.cached_tokens` and reasoning in `completion_tokens_details`), Anthropic's
(`input_tokens` without the cache, `cache_read_input_tokens`, `cache_creation_input_tokens`)
and the gateways' additions (Eden's top-level `cost`, OpenRouter's `usage.cost`, LiteLLM's
Anthropic fields beside OpenAI's). genai-prices' `extract_usage` reads the first two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from genai_prices import extract_usage

from bot.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    OutOfCredits,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestTooLarge,
)
from bot.llm.types import ChatRequest, EmbeddingRequest, Usage
from bot.redaction import Redactor
from routing.candidates import ProviderKind


def chat_body(request: ChatRequest, kind: ProviderKind) -> dict[str, Any]:
    """The streamed chat-completions body for a provider of `kind`."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.max_tokens:
        body["max_tokens"] = request.max_tokens
    if kind == "edenai":
        if request.session_id:
            body["session_id"] = request.session_id
        body.update(request.extra_body)
    return body


def embeddings_body(request: EmbeddingRequest) -> dict[str, Any]:
    return {"model": request.model, "input": list(request.texts)}


def vectors_of(payload: Any, count: int) -> tuple[tuple[float, ...], ...] | None:
    """`data[i].embedding` in input order (by each item's `index`), or None when the payload
    does not hold exactly `count` vectors of numbers."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, list) or len(data) != count:
        return None
    found: dict[int, tuple[float, ...]] = {}
    for position, item in enumerate(data):
        vector = item.get("embedding") if isinstance(item, Mapping) else None
        if not isinstance(vector, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in vector
        ):
            return None
        index = item.get("index", position)
        found[index if isinstance(index, int) else position] = tuple(float(x) for x in vector)
    if sorted(found) != list(range(count)):
        return None
    return tuple(found[i] for i in range(count))


def usage_of(raw: Mapping[str, Any]) -> Usage | None:
    """A provider's `usage` object in our terms; None when it has no token counts."""
    if _count(raw.get("prompt_tokens")) is not None:
        provider, flavor = "openai", "chat"
    elif _count(raw.get("input_tokens")) is not None:
        provider, flavor = "anthropic", "default"
    else:
        return None
    try:
        counted = extract_usage({"usage": raw}, provider_id=provider, api_flavor=flavor).usage
    except ValueError:  # a required count missing or not a number
        return None
    cache_read = int(counted.reported_value("cache_read_tokens"))
    cache_write = int(counted.reported_value("cache_write_tokens"))
    if provider == "openai":  # LiteLLM puts Anthropic's cache counts beside OpenAI's total
        cache_read = cache_read or _count(raw.get("cache_read_input_tokens")) or 0
        cache_write = cache_write or _count(raw.get("cache_creation_input_tokens")) or 0
    return Usage(
        input_tokens=int(counted.reported_value("input_tokens")),
        output_tokens=int(counted.reported_value("output_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=int(counted.reported_value("output_reasoning_tokens")),
    )


def embedding_usage(raw: Any) -> Usage | None:
    """An embeddings response's `usage`: input tokens only (`prompt_tokens`)."""
    count = _count(raw.get("prompt_tokens")) if isinstance(raw, Mapping) else None
    return None if count is None else Usage(count, 0)


def reported_cost(chunk: Mapping[str, Any]) -> Decimal | None:
    """The provider's own figure for the call in USD: Eden's top-level `cost`, else
    OpenRouter's `usage.cost`."""
    if chunk.get("cost") is not None:
        return _decimal(chunk["cost"])
    usage = chunk.get("usage")
    if isinstance(usage, Mapping) and usage.get("cost") is not None:
        return _decimal(usage["cost"])
    return None


def stream_error(event: str, chunk: Any, redact: Redactor) -> ProviderError | None:
    """The error an event reports, or None for an ordinary chunk.

    OpenAI and OpenRouter send `data: {"error": {"message", "type", "code"}}`; Anthropic sends
    `event: error` with `{"type": "error", "error": {...}}`; vLLM `{"object": "error", ...}`.
    """
    if not isinstance(chunk, Mapping):
        if event != "error":
            return None
        chunk = {"error": chunk}
    error = chunk.get("error")
    if not error and event != "error" and "error" not in (chunk.get("type"), chunk.get("object")):
        return None
    body: Mapping[str, Any] = error if isinstance(error, Mapping) else chunk
    message = body.get("message") if isinstance(body.get("message"), str) else None
    if message is None:
        message = error if isinstance(error, str) else json.dumps(chunk, default=str)
    code, kind = body.get("code"), body.get("type")
    label = " ".join(dict.fromkeys(str(p) for p in (kind, code) if p not in (None, "", "error")))
    detail = redact(f"in-stream error{f' ({label})' if label else ''}: {message}")[:300]
    status = _status(code)
    if status is not None:
        return error_for_code(status, detail)
    return _error_for_words(f"{kind} {code}".lower(), detail)


def error_for_code(status: int, detail: str, retry_after_s: float | None = None) -> ProviderError:
    """An HTTP status (of the response, or the `code` of an in-stream error) as our error."""
    if status in (401, 403):
        return AuthenticationFailed(detail=detail)
    if status == 402:
        return OutOfCredits(detail=detail)
    if status == 429:
        return RateLimited(detail=detail, retry_after_s=retry_after_s)
    if status == 413:
        return RequestTooLarge(detail=detail)
    if status in (408, 504):
        return ProviderTimeout(detail=detail)
    if status >= 500:
        return ProviderUnavailable(detail=detail)
    return BadRequest(detail=detail)


# First match wins: "invalid_api_key" is an auth failure, not an invalid request.
_WORDS: tuple[tuple[tuple[str, ...], type[ProviderError]], ...] = (
    (("quota", "credit", "billing", "payment"), OutOfCredits),
    (("rate_limit", "rate limit", "too_many_requests"), RateLimited),
    (("auth", "api_key", "permission"), AuthenticationFailed),
    (("context_length", "too_large", "too_long"), RequestTooLarge),
    (("timeout", "timed_out"), ProviderTimeout),
    (("overloaded", "server", "unavailable", "api_error", "internal"), ProviderUnavailable),
    (("invalid", "not_found", "bad_request", "badrequest"), BadRequest),
)


def _error_for_words(words: str, detail: str) -> ProviderError:
    for needles, error in _WORDS:
        if any(needle in words for needle in needles):
            return error(detail=detail)
    # An unnamed failure mid-answer is most likely the provider's own trouble: worth a retry.
    return ProviderUnavailable(detail=detail)


def _status(code: Any) -> int | None:
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    return None


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _decimal(value: Any) -> Decimal | None:
    try:
        cost = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return cost if cost.is_finite() and cost >= 0 else None


def error_for_status(response: httpx.Response, redact: Redactor | None = None) -> ProviderError:
    """Map an HTTP error response to the error tree, keeping the provider's words as detail."""
    detail = (redact or Redactor())(f"HTTP {response.status_code}: {response.text}")[:300]
    return error_for_code(response.status_code, detail, _retry_after(response))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
