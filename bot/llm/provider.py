"""The provider port: one streamed chat completion, or one embedding request, whatever API is
behind it.

A provider's `stream` yields the answer's text as it arrives (`str` deltas) and then exactly
one `StreamResult`; `embed` returns one vector per text. Any failure raises a `ProviderError`
(a `StreamBroken` carries what arrived). `adapters.llm.openai_client.ProviderClient` speaks
HTTP; tests use an in-memory fake.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from bot.llm.types import ChatRequest, EmbeddingRequest, Embeddings, StreamResult


class Provider(Protocol):
    def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]: ...

    async def embed(self, request: EmbeddingRequest) -> Embeddings: ...
