"""One streaming chat-completions call, or one embeddings call, to any OpenAI-compatible API
(Eden AI v3 by default).

`ProviderClient.stream` and `ProviderClient.embed` make exactly one HTTP attempt each (it
implements `bot.llm.provider.Provider`): retries and fallbacks live in `bot.llm.dispatch`,
which knows whether text reached the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from adapters.llm.progress import Progress, broken, ms_since
from adapters.llm.wire import (
    chat_body,
    embedding_usage,
    embeddings_body,
    error_for_status,
    reported_cost,
    stream_error,
    vectors_of,
)
from bot.llm.errors import ProviderError, ProviderTimeout, ProviderUnavailable
from bot.llm.types import ChatRequest, EmbeddingRequest, Embeddings, StreamResult
from bot.redaction import Redactor
from routing.candidates import ProviderKind

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0
    first_token_s: float = 30.0
    total_s: float = 120.0


class ProviderClient:
    """Streams one completion; raises a `ProviderError` subclass on any failure.

    `extra_headers` and `extra_query` go with every request (OpenRouter's `HTTP-Referer`,
    Azure's `api-version`); the extra headers may replace ours, e.g. a proxy's own
    `Authorization`. Provider text kept as an error's detail never contains the API key or
    a credential-looking extra header. `kind` says which request body the API takes
    (adapters/llm/wire.py): Eden AI's extras go to an Eden AI provider only.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        timeouts: Timeouts = Timeouts(),
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Sequence[tuple[str, str]] = (),
        kind: ProviderKind = "edenai",
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._url = self._base + "/chat/completions"
        self._kind = kind
        # A pasted key often carries a trailing newline, which is an illegal header value.
        self._api_key = api_key.strip()
        self._timeouts = timeouts
        self._headers = httpx.Headers({"Accept": "text/event-stream"})
        if self._api_key:  # local servers (Ollama, vLLM) need none; a missing one gets a 401
            self._headers["Authorization"] = f"Bearer {self._api_key}"
        self._headers.update(extra_headers or {})  # names compare case-insensitively
        self._query = httpx.QueryParams(list(extra_query))
        credentials = [v for k, v in (extra_headers or {}).items() if _is_credential(k)]
        self._redact = Redactor.of([self._api_key, *credentials])

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        """Text deltas as they arrive, then the `StreamResult`; a `ProviderError` on failure.

        Deadlines are checked on each read from the provider (never across a `yield`), so the
        consumer's own time between deltas cannot fire them.
        """
        started = time.perf_counter()
        progress = Progress()
        try:
            async for delta in self._stream(request, started, progress):
                yield delta
        except httpx.TimeoutException as exc:
            error: ProviderError = ProviderTimeout(detail=type(exc).__name__)
        except (httpx.TransportError, httpx.StreamError) as exc:
            error = ProviderUnavailable(detail=self._redact(f"{type(exc).__name__}: {exc}"))
        else:
            yield progress.snapshot(started)
            return
        if progress.text:
            raise broken(progress.snapshot(started), error.detail) from error
        raise error

    async def _stream(
        self, request: ChatRequest, started: float, progress: Progress
    ) -> AsyncIterator[str]:
        first_deadline = started + self._timeouts.first_token_s
        deadline = started + self._timeouts.total_s
        opened = await self._send(request, first_deadline)
        async with contextlib.aclosing(opened) as response:
            if response.status_code >= 400:
                await response.aread()
                raise error_for_status(response, self._redact)
            async with contextlib.aclosing(EventSource(response).aiter_sse()) as events:
                while True:
                    try:
                        if progress.ttft_ms is None:
                            left = max(0.001, min(first_deadline, deadline) - time.perf_counter())
                            event = await asyncio.wait_for(anext(events), left)
                        else:
                            event = await anext(events)
                    except StopAsyncIteration:
                        break
                    except TimeoutError:
                        raise self._fail(progress, started, "no first token in time",
                                         timeout=True) from None  # fmt: skip
                    except SSEError:
                        raise await self._not_a_stream(response) from None
                    if time.perf_counter() > deadline:
                        raise self._fail(progress, started, "total timeout", timeout=True)
                    if event.data.strip() == "[DONE]":
                        progress.done = True
                        await _drain(events)
                        break
                    chunk = self._chunk(event, progress, started)
                    if chunk is None:
                        continue
                    delta = progress.absorb(chunk, started)
                    if delta:
                        yield delta
        if not progress.done:
            raise self._fail(progress, started, "stream ended without [DONE]")

    async def _send(self, request: ChatRequest, first_deadline: float) -> httpx.Response:
        """Send the request and wait for the response headers, within the first-token
        deadline: a proxy may send none until its upstream answers (LiteLLM does)."""
        sent = self._http.build_request(
            "POST", self._url, json=chat_body(request, self._kind), headers=self._headers,
            params=self._query,
            timeout=httpx.Timeout(self._timeouts.total_s, connect=self._timeouts.connect_s),
        )  # fmt: skip
        try:
            async with asyncio.timeout(max(0.001, first_deadline - time.perf_counter())):
                return await self._http.send(sent, stream=True)
        except TimeoutError:
            raise ProviderTimeout(detail="no first token in time (no response headers)") from None

    def _chunk(self, event: ServerSentEvent, progress: Progress, started: float) -> Any:
        """The event's JSON, None for an empty one; an in-stream error ends the attempt."""
        if not event.data.strip() and event.event != "error":
            return None  # an `id:` or `retry:` line alone
        try:
            chunk = json.loads(event.data)
        except json.JSONDecodeError:
            if event.event != "error":
                raise self._fail(progress, started, "malformed stream chunk") from None
            chunk = event.data  # a plain-text error event
        if event.event != "error" and '"error"' not in event.data:
            return chunk  # every error shape names "error" somewhere: skip the full check
        error = stream_error(event.event, chunk, self._redact)
        if error is None:
            return chunk
        if progress.text:
            raise broken(progress.snapshot(started), error.detail) from error
        raise error

    async def _not_a_stream(self, response: httpx.Response) -> ProviderError:
        """A 200 that is not an event stream: an error object if it holds one."""
        await response.aread()
        kind = response.headers.get("content-type", "nothing")
        try:
            error = stream_error("", response.json(), self._redact)
        except ValueError:
            error = None
        return error or ProviderUnavailable(
            detail=self._redact(f"expected an event stream, got {kind}: {response.text}")[:300]
        )

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """One vector per text (`POST {base}/embeddings`); a `ProviderError` on failure."""
        started = time.perf_counter()
        timeout = httpx.Timeout(self._timeouts.total_s, connect=self._timeouts.connect_s)
        headers = httpx.Headers(self._headers)
        headers["Accept"] = "application/json"
        try:
            response = await self._http.post(
                self._base + "/embeddings", json=embeddings_body(request), headers=headers,
                params=self._query, timeout=timeout,
            )  # fmt: skip
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(detail=type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(detail=self._redact(f"{type(exc).__name__}: {exc}")) from None
        if response.status_code >= 400:
            raise error_for_status(response, self._redact)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        vectors = vectors_of(payload, len(request.texts))
        if vectors is None:
            error = stream_error("", payload, self._redact) if payload is not None else None
            raise error or ProviderUnavailable(
                detail=self._redact(f"not {len(request.texts)} embeddings: {response.text}")[:300]
            )
        model = payload.get("model")
        return Embeddings(
            vectors=vectors,
            model_served=model if isinstance(model, str) and model else None,
            usage=embedding_usage(payload.get("usage")),
            reported_cost_usd=reported_cost(payload),
            latency_ms=ms_since(started),
        )

    def _fail(
        self, progress: Progress, started: float, detail: str, *, timeout: bool = False
    ) -> ProviderError:
        if progress.text:
            return broken(progress.snapshot(started), detail)
        return ProviderTimeout(detail=detail) if timeout else ProviderUnavailable(detail=detail)


async def _drain(events: AsyncIterator[ServerSentEvent]) -> None:
    """Read the (empty) rest of the body: a fully read response returns its connection to the
    pool, an abandoned one is closed, and the next call pays for a new TCP connection."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for _ in events:
                pass


def _is_credential(header: str) -> bool:
    name = header.lower()
    return any(word in name for word in ("key", "auth", "token", "secret", "cookie"))
