"""What the simulator writes on the wire: usage objects, SSE events, in-stream errors.

Plain functions of their inputs (no I/O), so the shapes real providers send are in one place:
OpenAI's and OpenRouter's usage details, the optional parts of the SSE format, and the error
objects OpenAI, OpenRouter and Anthropic send in the middle of a stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.llm.simulator_profiles import Fault, ModelProfile, WireError

MALFORMED_LINE = b"data: {not json\n\n"

# The request arguments OpenAI documents (API reference, chat completions and embeddings).
CHAT_ARGUMENTS = frozenset({
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
    "temperature", "top_p", "n", "stop", "presence_penalty", "frequency_penalty", "logit_bias",
    "logprobs", "top_logprobs", "user", "seed", "tools", "tool_choice", "parallel_tool_calls",
    "response_format", "service_tier", "store", "metadata", "modalities", "audio", "prediction",
    "reasoning_effort", "web_search_options", "prompt_cache_key", "safety_identifier",
    "verbosity",
})  # fmt: skip
EMBEDDING_ARGUMENTS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


def refuse_undocumented(body: Mapping[str, Any], documented: frozenset[str]) -> None:
    """Raise OpenAI's 400 for the first argument it does not document."""
    for name in body:
        if name not in documented:
            error = {
                "message": f"Unrecognized request argument supplied: {name}",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
            raise WireError(400, {"error": error})


@dataclass(frozen=True)
class Accounting:
    """How the simulated provider reports usage beyond prompt and completion tokens.

    `cached_tokens` (up to the prompt's size) and `cache_write_tokens` go in
    `prompt_tokens_details` (OpenAI's and OpenRouter's names); `reasoning_tokens` are added to
    `completion_tokens` and named in `completion_tokens_details`; `cost_in_usage` puts the
    price in `usage.cost` as OpenRouter does (use it with `report_cost=False`).
    """

    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_in_usage: bool = False

    def usage(self, profile: ModelProfile, prompt: int, visible: int) -> dict[str, Any]:
        """The `usage` object of an answer of `visible` tokens to a `prompt`-token request."""
        completion = visible + self.reasoning_tokens
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if self.cached_tokens or self.cache_write_tokens:
            cached = min(self.cached_tokens, prompt)
            usage["prompt_tokens_details"] = {
                "cached_tokens": cached,
                "cache_write_tokens": min(self.cache_write_tokens, prompt - cached),
            }
        if self.reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        if self.cost_in_usage:
            usage["cost"] = float(profile.cost_usd(prompt, completion))
        return usage


def stream_error_payload(fault: Fault, api_key: str) -> tuple[str | None, dict[str, Any]]:
    """The SSE event name and JSON of a `stream_error` fault."""
    error: dict[str, Any] = {
        "message": fault.message.replace("{api_key}", api_key),
        "type": fault.error_type,
    }
    if fault.anthropic:
        return "error", {"type": "error", "error": error}
    return None, {"error": error | {"code": fault.code}}


def event(payload: Mapping[str, Any], name: str | None = None) -> bytes:
    """One event as most providers send it: `data: {json}` and a blank line."""
    head = f"event: {name}\n".encode() if name else b""
    return head + b"data: " + json.dumps(payload).encode() + b"\n\n"


def chatty_event(payload: Mapping[str, Any], name: str | None, number: int) -> bytes:
    """One event with every optional part: a keep-alive comment before it, a name, an id and
    one `data:` line per JSON line (indented JSON has no newline inside a string, so the lines
    join back into the same JSON)."""
    lines = [": ping", "", f"event: {name or 'completion'}", f"id: {number}"]
    lines += [f"data: {line}" for line in json.dumps(payload, indent=1).splitlines()]
    return ("\n".join(lines) + "\n\n").encode()
