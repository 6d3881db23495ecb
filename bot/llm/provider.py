"""The provider port: one streamed chat completion, whatever API is behind it."""

from __future__ import annotations

from typing import Protocol

from bot.llm.types import ChatRequest, OnDelta, StreamResult


class Provider(Protocol):
    async def stream(self, request: ChatRequest, on_delta: OnDelta) -> StreamResult:
        """Stream one completion into `on_delta`; raise a `ProviderError` on any failure."""
        ...
