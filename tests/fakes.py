"""Test doubles that speak the core's real ports: one module, used by every test.

- `FakeProvider` is an in-memory LLM provider: it records every request and streams what it
  was given (`enqueue(Scripted(...))`), or a default answer; `embed` returns the simulator's
  labelled fake vectors (a hashed bag of words) and records each request in `embeddings`.
- `RecordingReply`, `RecordingNotifier` and `RecordingStrategy` remember what they were told.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adapters.llm.simulator_embeddings import fake_embedding
from adapters.llm.wire import chat_body
from bot.conversation.messages import AnswerMeta, Incoming, ReplyLimits
from bot.llm.errors import ProviderError, StreamBroken
from bot.llm.pricing import estimate_tokens, prompt_tokens
from bot.llm.types import ChatRequest, EmbeddingRequest, Embeddings, StreamResult, Usage
from bot.notices import Notice
from routing.candidates import ProviderKind
from routing.strategy import Decision, RouteRequest, Strategy


@dataclass(frozen=True)
class Scripted:
    """One scripted provider response. `model` limits it to requests for that model."""

    text: str = "Here is how to do that: open Settings, then Security."
    model: str | None = None
    chunks: int = 3  # the text arrives in this many deltas
    usage: tuple[int, int] | None = None  # default: estimated from the request and the text
    cost_usd: Decimal | None = None  # a provider-reported cost (Eden AI's `cost`)
    served: str | None = None  # model_served (default: the model asked)
    error: ProviderError | None = None  # raised before any text
    break_after: int | None = None  # raise StreamBroken after this many deltas
    delay_s: float = 0.0  # before each delta (and before an error)
    repeat: int = 1  # how many requests this script answers
    hang_after: int | None = None  # after this many deltas, never return (a crash stand-in)
    echo: bool = False  # answer "re: <the question>" instead of `text`


def _pieces(text: str, count: int) -> list[str]:
    if not text:
        return []
    size = max(1, -(-len(text) // max(1, count)))
    return [text[i : i + size] for i in range(0, len(text), size)]


@dataclass(frozen=True)
class Sent(ChatRequest):
    """A request as the fake received it; `body()` is what the HTTP client would send a
    provider of this kind."""

    kind: ProviderKind = "edenai"

    def body(self) -> dict[str, Any]:
        return chat_body(self, self.kind)


@dataclass
class FakeProvider:
    """Implements `bot.llm.provider.Provider` in memory; `kind` is the wire format its
    requests' `body()` shows."""

    default: Scripted = field(default_factory=Scripted)
    requests: list[Sent] = field(default_factory=list)
    embeddings: list[EmbeddingRequest] = field(default_factory=list)
    kind: ProviderKind = "edenai"
    dimensions: int = 64
    _queue: list[list[Any]] = field(default_factory=list)  # [script, uses left]

    def enqueue(self, *scripts: Scripted) -> None:
        self._queue.extend([s, s.repeat] for s in scripts)

    @property
    def models_asked(self) -> list[str]:
        return [r.model for r in self.requests]

    def _next(self, model: str) -> Scripted:
        for entry in self._queue:
            script, left = entry
            if script.model is None or script.model == model:
                entry[1] = left - 1
                if entry[1] <= 0:
                    self._queue.remove(entry)
                return script  # type: ignore[no-any-return]
        return self.default

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        self.embeddings.append(request)
        script = self._next(request.model)
        if script.error is not None:
            raise script.error
        vectors = tuple(fake_embedding(text, self.dimensions) for text in request.texts)
        tokens = sum(estimate_tokens(text) for text in request.texts)
        usage = Usage(script.usage[0], 0) if script.usage else Usage(tokens, 0)
        return Embeddings(vectors, script.served or request.model, usage, script.cost_usd, 0)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        self.requests.append(Sent(**vars(request), kind=self.kind))
        script = self._next(request.model)
        started = time.perf_counter()
        if script.error is not None:
            if script.delay_s:
                await asyncio.sleep(script.delay_s)
            raise script.error
        sent: list[str] = []
        ttft = None
        text = f"re: {request.messages[-1].content}" if script.echo else script.text
        for number, piece in enumerate(_pieces(text, script.chunks)):
            if script.break_after is not None and number >= script.break_after:
                error = StreamBroken(detail="the fake stream broke")
                error.partial = StreamResult("".join(sent), script.served or request.model,
                                             None, None, ttft, _ms(started))  # fmt: skip
                raise error
            if script.hang_after is not None and number >= script.hang_after:
                await asyncio.Event().wait()  # the process "died" here: nothing after runs
            if script.delay_s:
                await asyncio.sleep(script.delay_s)
            ttft = ttft if ttft is not None else _ms(started)
            sent.append(piece)
            yield piece
        estimated = Usage(prompt_tokens(request.messages), estimate_tokens(text))
        usage = Usage(*script.usage) if script.usage else estimated
        yield StreamResult(
            text="".join(sent),
            model_served=script.served or request.model,
            usage=usage,
            reported_cost_usd=script.cost_usd,
            ttft_ms=ttft,
            latency_ms=_ms(started),
            finish_reason="stop",
        )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


@dataclass
class RecordingReply:
    """A Reply that remembers everything and, like a platform, returns ids of what it posted."""

    name: str = ""
    limits: ReplyLimits = field(default_factory=ReplyLimits)
    deltas: list[str] = field(default_factory=list)
    final: str | None = None
    meta: AnswerMeta | None = None
    error: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    post_ids: tuple[str, ...] = ()
    shown_at: list[float] = field(default_factory=list)  # when each delta arrived

    async def start(self) -> None:
        if self.started_at is None:
            self.started_at = time.perf_counter()

    async def append(self, text: str) -> None:
        self.deltas.append(text)
        self.shown_at.append(time.perf_counter())

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        self.final, self.meta, self.ended_at = text, meta, time.perf_counter()
        return list(self.post_ids)

    async def fail(self, message: str) -> None:
        self.error, self.ended_at = message, time.perf_counter()


@dataclass
class RecordingNotifier:
    notices: list[Notice] = field(default_factory=list)

    async def notify(self, notice: Notice) -> None:
        self.notices.append(notice)

    def titled(self, start: str) -> list[Notice]:
        return [n for n in self.notices if n.title.startswith(start)]


@dataclass
class RecordingStrategy:
    """Wraps a real strategy and keeps every request it was asked to route."""

    inner: Strategy
    requests: list[RouteRequest] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    def decide(self, request: RouteRequest) -> Decision:
        self.requests.append(request)
        return self.inner.decide(request)


@dataclass(frozen=True)
class ModelList:
    """A strategy that asks `models` in order (first, then fallbacks)."""

    models: tuple[str, ...]
    name: str = "list"

    def decide(self, request: RouteRequest) -> Decision:
        return Decision(strategy=self.name, models=self.models, reasons=("test list",))


def incoming(text: str, event_id: str, thread: str = "t1", **kw: Any) -> Incoming:
    values: dict[str, Any] = {
        "platform": "slack",
        "workspace": "T1",
        "channel": "C1",
        "thread": thread,
        "user": "U1",
        "text": text,
        "event_id": event_id,
    }
    values.update(kw)
    return Incoming(**values)
