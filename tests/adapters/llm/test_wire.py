"""Provider JSON read into our terms: usage in every shape, reported cost, in-stream errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.llm.wire import reported_cost, stream_error, usage_of
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
from bot.llm.types import Usage
from bot.redaction import Redactor

NO_SECRETS = Redactor()


def test_openai_usage_with_cached_and_reasoning_tokens() -> None:
    raw = {"prompt_tokens": 2000, "completion_tokens": 3100, "total_tokens": 5100,
           "prompt_tokens_details": {"cached_tokens": 1500, "audio_tokens": 0},
           "completion_tokens_details": {"reasoning_tokens": 3000}}  # fmt: skip
    assert usage_of(raw) == Usage(2000, 3100, cache_read_tokens=1500, reasoning_tokens=3000)


def test_plain_usage_has_no_parts() -> None:
    assert usage_of({"prompt_tokens": 12, "completion_tokens": 3}) == Usage(12, 3)
    # null details (some servers send them) are the same as none
    raw = {"prompt_tokens": 12, "completion_tokens": 3, "prompt_tokens_details": None}
    assert usage_of(raw) == Usage(12, 3)


def test_openrouter_usage_with_cache_writes_and_cost() -> None:
    raw = {"prompt_tokens": 10_000, "completion_tokens": 500, "cost": 0.0435,
           "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 8000}}  # fmt: skip
    assert usage_of(raw) == Usage(10_000, 500, cache_write_tokens=8000)
    assert reported_cost({"usage": raw}) == Decimal("0.0435")


def test_anthropic_usage_counts_cache_outside_input_tokens() -> None:
    # Anthropic's input_tokens excludes the cache: the prompt was 2,000 + 8,000 + 0 tokens.
    raw = {"input_tokens": 2000, "output_tokens": 500, "cache_creation_input_tokens": 8000,
           "cache_read_input_tokens": 0}  # fmt: skip
    assert usage_of(raw) == Usage(10_000, 500, cache_write_tokens=8000)


def test_litellm_puts_anthropic_cache_fields_beside_openai_totals() -> None:
    # LiteLLM: prompt_tokens is the whole prompt; cache fields as Anthropic names them.
    raw = {"prompt_tokens": 10_000, "completion_tokens": 500, "cache_creation_input_tokens": 8000,
           "cache_read_input_tokens": 0}  # fmt: skip
    assert usage_of(raw) == Usage(10_000, 500, cache_write_tokens=8000)


@pytest.mark.parametrize(
    "raw", [{}, {"total_tokens": 5}, {"prompt_tokens": None}, {"prompt_tokens": 5}]
)
def test_usage_without_counts_is_none(raw: dict[str, Any]) -> None:
    assert usage_of(raw) is None


def test_eden_top_level_cost_comes_before_usage_cost() -> None:
    chunk = {"cost": 0.0042, "usage": {"prompt_tokens": 1, "completion_tokens": 1, "cost": 9}}
    assert reported_cost(chunk) == Decimal("0.0042")
    assert reported_cost({"usage": {"cost": 0}}) == Decimal(0)  # free is reported, not unknown
    assert reported_cost({"usage": {"cost": "n/a"}}) is None
    assert reported_cost({"cost": -1}) is None
    assert reported_cost({"choices": []}) is None


ERRORS: list[tuple[str, Any, type[ProviderError], str]] = [
    ("", {"error": {"message": "Rate limit reached for gpt-4o", "type": "requests",
                    "code": "rate_limit_exceeded"}}, RateLimited, "Rate limit reached"),
    ("", {"error": {"code": 502, "message": "Provider returned error"}}, ProviderUnavailable,
     "Provider returned error"),
    ("", {"error": {"code": "429", "message": "slow down"}}, RateLimited, "slow down"),
    ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
     ProviderUnavailable, "Overloaded"),
    ("", {"error": {"type": "invalid_request_error", "message": "Unknown parameter"}},
     BadRequest, "Unknown parameter"),
    ("", {"error": {"code": "invalid_api_key", "message": "Incorrect API key"}},
     AuthenticationFailed, "Incorrect API key"),
    ("", {"error": {"code": "insufficient_quota", "message": "You exceeded your quota"}},
     OutOfCredits, "exceeded your quota"),
    ("", {"error": {"code": "context_length_exceeded", "message": "too many tokens"}},
     RequestTooLarge, "too many tokens"),
    ("", {"error": {"type": "timeout", "message": "upstream timed out"}}, ProviderTimeout,
     "timed out"),
    ("", {"object": "error", "message": "vLLM says no", "type": "BadRequestError", "code": 400},
     BadRequest, "vLLM says no"),
    ("", {"error": "something broke"}, ProviderUnavailable, "something broke"),
    ("error", "plain text failure", ProviderUnavailable, "plain text failure"),
]  # fmt: skip


@pytest.mark.parametrize(("event", "chunk", "kind", "words"), ERRORS)
def test_in_stream_errors_map_to_the_error_tree_with_the_providers_words(
    event: str, chunk: Any, kind: type[ProviderError], words: str
) -> None:
    error = stream_error(event, chunk, NO_SECRETS)
    assert type(error) is kind
    assert words in error.detail and error.detail.startswith("in-stream error")


@pytest.mark.parametrize(
    "chunk",
    [{"choices": [{"delta": {"content": "hi"}}]}, {"error": None, "choices": []}, [1, 2], "x"],
)
def test_ordinary_chunks_are_not_errors(chunk: Any) -> None:
    assert stream_error("", chunk, NO_SECRETS) is None
    assert stream_error("completion", chunk, NO_SECRETS) is None


def test_the_key_a_provider_echoes_is_redacted() -> None:
    redact = Redactor.of(["sk-live-0123456789abcdef", "short", "hdr-credential-value"])
    chunk = {"error": {"code": 401, "message": "Bad key sk-live-0123456789abcdef for "
                       "hdr-credential-value"}}  # fmt: skip
    error = stream_error("", chunk, redact)
    assert isinstance(error, AuthenticationFailed)
    assert "sk-live" not in error.detail and "hdr-credential" not in error.detail
    assert error.detail.count("[redacted]") == 2
    # Too short to be a real key: redacting "short" everywhere would garble the text.
    assert redact("a short note") == "a short note"
