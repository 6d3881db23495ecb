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
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class StreamResult:
    text: str
    model_served: str | None
    usage: Usage | None  # None when the provider never reported it (e.g. broken stream)
    reported_cost_usd: Decimal | None  # Eden's `cost`; None for plain OpenAI-compatible APIs
    ttft_ms: int | None
    latency_ms: int
    finish_reason: str | None = None
