"""One streaming chat-completions call to any OpenAI-compatible API (Eden AI v3 by default).

`ProviderClient.stream` makes exactly one HTTP attempt (it implements `bot.llm.provider.Provider`):
retries and fallbacks live in `bot.llm.dispatch`, which knows whether text reached the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from bot.errors import (
    AuthenticationFailed,
    BadRequest,
    OutOfCredits,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestTooLarge,
    StreamBroken,
)
from bot.llm.types import ChatRequest, StreamResult, Usage

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0
    first_token_s: float = 30.0
    total_s: float = 120.0


class ProviderClient:
    """Streams one completion; raises a `ProviderError` subclass on any failure."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/chat/completions"
        # A pasted key often carries a trailing newline, which is an illegal header value.
        self._api_key = api_key.strip()
        self._timeouts = timeouts

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        """Text deltas as they arrive, then the `StreamResult`; a `ProviderError` on failure.

        Deadlines are checked on each read from the provider (never across a `yield`), so the
        consumer's own time between deltas cannot fire them.
        """
        started = time.perf_counter()
        progress = _Progress()
        try:
            async for delta in self._stream(request, started, progress):
                yield delta
        except httpx.TimeoutException as exc:
            error: ProviderError = ProviderTimeout(detail=type(exc).__name__)
        except (httpx.TransportError, httpx.StreamError) as exc:
            error = ProviderUnavailable(detail=f"{type(exc).__name__}: {exc}")
        else:
            yield progress.snapshot(started)
            return
        if progress.text:
            raise _broken(progress.snapshot(started), error.detail) from error
        raise error

    async def _stream(
        self, request: ChatRequest, started: float, progress: _Progress
    ) -> AsyncIterator[str]:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:  # local servers (Ollama, vLLM) need none; a missing one gets a 401
            headers["Authorization"] = f"Bearer {self._api_key}"
        timeout = httpx.Timeout(self._timeouts.total_s, connect=self._timeouts.connect_s)
        first_deadline = started + self._timeouts.first_token_s
        deadline = started + self._timeouts.total_s
        async with self._http.stream(
            "POST", self._url, json=request.body(), headers=headers, timeout=timeout
        ) as response:
            if response.status_code >= 400:
                await response.aread()
                error = error_for_status(response)
                if self._api_key:  # some APIs echo the key they refused
                    error.detail = error.detail.replace(self._api_key, "[redacted]")
                raise error
            lines = response.aiter_lines()
            while True:
                try:
                    if progress.ttft_ms is None:
                        remaining = max(0.001, min(first_deadline, deadline) - time.perf_counter())
                        line = await asyncio.wait_for(anext(lines), remaining)
                    else:
                        line = await anext(lines)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise self._fail(progress, started, "no first token in time",
                                     timeout=True) from None  # fmt: skip
                if time.perf_counter() > deadline:
                    raise self._fail(progress, started, "total timeout", timeout=True)
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    progress.done = True
                    await _drain(lines)
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    raise self._fail(progress, started, "malformed stream chunk") from None
                delta = progress.absorb(chunk, started)
                if delta:
                    yield delta
        if not progress.done:
            raise self._fail(progress, started, "stream ended without [DONE]")

    def _fail(
        self, progress: _Progress, started: float, detail: str, *, timeout: bool = False
    ) -> ProviderError:
        if progress.text:
            return _broken(progress.snapshot(started), detail)
        return ProviderTimeout(detail=detail) if timeout else ProviderUnavailable(detail=detail)


@dataclass
class _Progress:
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
        if isinstance(chunk.get("usage"), dict):
            self.usage = _usage(chunk["usage"]) or self.usage
        if chunk.get("cost") is not None:
            self.cost = _decimal(chunk["cost"])
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
                self.ttft_ms = _ms_since(started)
            self.parts.append(delta)
        return delta

    def snapshot(self, started: float) -> StreamResult:
        return StreamResult(
            text=self.text,
            model_served=self.model,
            usage=self.usage,
            reported_cost_usd=self.cost,
            ttft_ms=self.ttft_ms,
            latency_ms=_ms_since(started),
            finish_reason=self.finish_reason,
        )


async def _drain(lines: AsyncIterator[str]) -> None:
    """Read the (empty) rest of the body: a fully read response returns its connection to the
    pool, an abandoned one is closed, and the next call pays for a new TCP connection."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for _ in lines:
                pass


def _broken(partial: StreamResult, detail: str) -> StreamBroken:
    error = StreamBroken(detail=detail)
    error.partial = replace(partial, usage=None, reported_cost_usd=None)
    return error


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _usage(raw: dict[str, Any]) -> Usage | None:
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return Usage(input_tokens=prompt, output_tokens=completion)
    return None


def _decimal(value: Any) -> Decimal | None:
    try:
        cost = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return cost if cost.is_finite() and cost >= 0 else None


def error_for_status(response: httpx.Response) -> ProviderError:
    """Map an HTTP error response to the error tree, keeping the provider's words as detail."""
    status = response.status_code
    detail = f"HTTP {status}: {response.text[:300]}"
    if status in (401, 403):
        return AuthenticationFailed(detail=detail)
    if status == 402:
        return OutOfCredits(detail=detail)
    if status == 429:
        return RateLimited(detail=detail, retry_after_s=_retry_after(response))
    if status == 413:
        return RequestTooLarge(detail=detail)
    if status >= 500:
        return ProviderUnavailable(detail=detail)
    return BadRequest(detail=detail)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
