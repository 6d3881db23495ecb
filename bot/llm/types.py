"""The values that flow between the engine and any LLM provider: requests, usage, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    session_id: str = ""
    max_tokens: int | None = None
    extra_body: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.session_id:
            body["session_id"] = self.session_id
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        body.update(self.extra_body)
        return body


@dataclass(frozen=True)
class Usage:
    """Billed tokens, as genai-prices counts them: `input_tokens` is the whole prompt, cache
    reads and writes included; `output_tokens` is everything generated, reasoning included.
    The other counts are the parts of those that are priced differently."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0  # prompt tokens served from the provider's prompt cache
    cache_write_tokens: int = 0  # prompt tokens written to it (Anthropic bills them at 1.25x)
    reasoning_tokens: int = 0  # output tokens the model thought but did not say


@dataclass(frozen=True)
class StreamResult:
    text: str
    model_served: str | None
    usage: Usage | None  # None when the provider never reported it (e.g. broken stream)
    # The provider's own figure (Eden's `cost`, OpenRouter's `usage.cost`); None for plain
    # OpenAI-compatible APIs.
    reported_cost_usd: Decimal | None
    ttft_ms: int | None
    latency_ms: int
    finish_reason: str | None = None
