"""What one chat-completions stream has delivered so far: text, the served model, usage and the
reported cost, read chunk by chunk (`Progress.absorb`), and the result or partial result
(`snapshot`, `broken`) the provider client returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from adapters.llm.wire import reported_cost, usage_of
from bot.llm.errors import StreamBroken
from bot.llm.types import StreamResult, Usage


@dataclass
class Progress:
    """What one stream has delivered so far."""

    parts: list[str] = field(default_factory=list)
    model: str | None = None
    usage: Usage | None = None
    cost: Decimal | None = None
    ttft_ms: int | None = None
    finish_reason: str | None = None
    done: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def absorb(self, chunk: Any, started: float) -> str:
        if not isinstance(chunk, dict):
            return ""
        if isinstance(chunk.get("model"), str) and chunk["model"]:
            self.model = chunk["model"]
        usage = chunk.get("usage")
        if usage is not None or "cost" in chunk:  # the last chunk, usually
            if isinstance(usage, dict):
                self.usage = usage_of(usage) or self.usage
            cost = reported_cost(chunk)
            if cost is not None:
                self.cost = cost
        delta = ""
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str) and content:
                delta += content
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        if delta:
            if self.ttft_ms is None:
                self.ttft_ms = ms_since(started)
            self.parts.append(delta)
        return delta

    def snapshot(self, started: float) -> StreamResult:
        return StreamResult(
            text=self.text,
            model_served=self.model,
            usage=self.usage,
            reported_cost_usd=self.cost,
            ttft_ms=self.ttft_ms,
            latency_ms=ms_since(started),
            finish_reason=self.finish_reason,
        )


def broken(partial: StreamResult, detail: str) -> StreamBroken:
    error = StreamBroken(detail=detail)
    error.partial = replace(partial, usage=None, reported_cost_usd=None)
    return error


def ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
