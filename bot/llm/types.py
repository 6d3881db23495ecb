"""The values that flow between the core and any LLM provider: who asked, requests, usage,
results. How a request looks on the wire is each adapter's business (adapters/llm/wire.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Asker:
    """Who asked, where: carried whole from the platform's message to the ledger row.
    Empty fields for calls nobody asked (a credential check)."""

    platform: str = ""
    workspace: str = ""
    channel: str = ""
    user: str = ""
    thread: str = ""  # the platform's conversation key (Slack thread_ts, Discord thread id)


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    session_id: str = ""  # the conversation it belongs to (Eden AI keeps a session by it)
    max_tokens: int | None = None
    # Eden AI's routing parameters (`router_candidates`, `fallbacks`): only an Eden AI
    # provider receives them (and `session_id`); any other gets OpenAI's documented fields.
    extra_body: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EmbeddingRequest:
    model: str
    texts: tuple[str, ...]


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


@dataclass(frozen=True)
class Embeddings:
    """One embedding response: a vector per input text, in order."""

    vectors: tuple[tuple[float, ...], ...]
    model_served: str | None
    usage: Usage | None  # input tokens only
    reported_cost_usd: Decimal | None
    latency_ms: int

    # What a ledger row reads from any result: an embedding has no text and no first token.
    @property
    def text(self) -> str:
        return ""

    @property
    def ttft_ms(self) -> int | None:
        return None
