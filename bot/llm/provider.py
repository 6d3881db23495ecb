"""The provider port: one streamed chat completion, whatever API is behind it.

A provider yields the answer's text as it arrives (`str` deltas) and then exactly one
`StreamResult`; any failure raises a `ProviderError` (a `StreamBroken` carries what arrived).
`adapters.llm.openai_client.ProviderClient` speaks HTTP; tests use an in-memory fake.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from bot.llm.types import ChatRequest, StreamResult


class Provider(Protocol):
    def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]: ...
