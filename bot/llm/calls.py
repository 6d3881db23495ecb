"""The one metered call path: every request Switchboard sends a provider goes through `Calls`.

`Calls` asks a request's candidates in order (retries and fallback across providers:
`Dispatcher`), holds the call's estimated cost against the budgets while it runs (`Holds`),
prices and stores every attempt as exactly one ledger row (`CallRecorder`), and tells the
call observers (spend meter, model health, alerts, metrics). Each call has a purpose, recorded
on its rows: answer, judge, shadow, check (the credential checks of `run` and `doctor`) or
embedding. So the ledger is the provider's invoice, whoever made the request.

    async for event in calls.stream(models, request, context, keep=...):  # answers
        ...  # str (text delta) | Trying (about to ask) | Recorded (an attempt, on the ledger)
    done = await calls.complete(models, request, context)  # judge, shadow -> Completion
    done = await calls.check(model)  # one request, one token, no retry -> Completion
    found = await calls.embed(texts, model=..., asker=..., purpose="embedding") -> Embedded
    found.vectors  # tuple of one tuple[float, ...] per text, in order

`embed` raises the `ProviderError` of the last try when every try failed (each try is on the
ledger already) and `BudgetExceeded` when a `block` budget refuses it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Protocol

from bot.errors import BudgetExceeded, SwitchboardError
from bot.llm.dispatch import Attempt, Dispatcher, Trying
from bot.llm.errors import ProviderError
from bot.llm.pricing import estimate_tokens, prompt_tokens
from bot.llm.recorder import CallContext, CallRecorder, RecordedCall
from bot.llm.types import (
    Asker,
    ChatMessage,
    ChatRequest,
    EmbeddingRequest,
    Embeddings,
    StreamResult,
)
from storage.records import CallRecord

log = logging.getLogger(__name__)

CHECK_PROMPT = (ChatMessage("user", "Reply with the word OK."),)
NOBODY = Asker()  # a call nobody asked: a credential check
CHECK_SESSION = "switchboard-check"


class CallObserver(Protocol):
    """Told about every stored call attempt, whatever its purpose (alerts, metrics, health)."""

    async def on_call(self, call_id: int, record: CallRecord) -> None: ...


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Hold:
    """Spend held for one call until it is recorded (`release()`), or the reason it may not
    be made."""

    block_message: str | None = None
    release: Callable[[], None] = _nothing


class Holds(Protocol):
    """Holds a call's estimated cost against the budgets that apply to its asker."""

    async def reserve(self, asker: Asker, model: str, prompt_tokens: int) -> Hold: ...


class NoHolds:
    """No budget that refuses calls (`downgrade`, or none configured)."""

    async def reserve(self, asker: Asker, model: str, prompt_tokens: int) -> Hold:
        return Hold()


@dataclass(frozen=True)
class Recorded:
    """One attempt, as stored; `text` is the answer stored with it (None: none)."""

    attempt: Attempt
    call: RecordedCall
    text: str | None = None


@dataclass(frozen=True)
class Completion:
    """A call run to its end: its attempts as recorded, the result or why there is none."""

    recorded: tuple[Recorded, ...]
    result: StreamResult | None
    error: SwitchboardError | None = None

    @property
    def call_id(self) -> int | None:
        return self.recorded[-1].call.call_id if self.recorded else None

    @property
    def cost_nano_usd(self) -> int | None:
        return self.recorded[-1].call.cost.nano_usd if self.recorded else None


@dataclass(frozen=True)
class Embedded:
    vectors: tuple[tuple[float, ...], ...]  # one per text, in order
    call_id: int
    cost_nano_usd: int | None  # None: the model's price is unknown (flagged on the ledger)


Keep = Callable[[Attempt], str | None]


def _keep_nothing(attempt: Attempt) -> str | None:
    return None


class Calls:
    def __init__(
        self,
        dispatcher: Dispatcher,
        recorder: CallRecorder,
        *,
        holds: Holds | None = None,
        observers: Sequence[CallObserver] = (),
    ) -> None:
        self._dispatcher = dispatcher
        self._recorder = recorder
        self._holds = holds or NoHolds()
        self._observers = tuple(observers)

    async def stream(
        self,
        models: Sequence[str],
        request: ChatRequest,
        context: CallContext,
        *,
        keep: Keep = _keep_nothing,
        retries: int | None = None,
    ) -> AsyncGenerator[str | Trying | Recorded, None]:
        """Text deltas, a `Trying` before each request and a `Recorded` after it; `keep`
        says what answer text to store with an attempt's row. Raises `BudgetExceeded` before
        any request when a budget refuses the call, and the last `ProviderError` when every
        try failed (after its `Recorded`)."""
        prompt = prompt_tokens(request.messages)
        hold = Hold()
        if context.purpose != "check":  # a check is how an operator finds what is wrong
            hold = await self._hold(context.asker, models[0], prompt)
        try:
            events = self._dispatcher.stream(models, request, retries=retries)
            async with aclosing(events) as tries:
                async for event in tries:
                    if isinstance(event, Attempt):
                        yield await self._record(context, event, prompt, keep(event))
                    else:
                        yield event
        finally:
            hold.release()

    async def complete(
        self,
        models: Sequence[str],
        request: ChatRequest,
        context: CallContext,
        *,
        retries: int | None = None,
    ) -> Completion:
        """Run a request to the end without streaming it anywhere (judge, shadow, checks)."""
        recorded: list[Recorded] = []
        try:
            events = self.stream(models, request, context, retries=retries)
            async with aclosing(events) as tries:
                async for event in tries:
                    if isinstance(event, Recorded):
                        recorded.append(event)
        except (ProviderError, BudgetExceeded) as error:
            return Completion(tuple(recorded), None, error)
        result = recorded[-1].attempt.result
        assert isinstance(result, StreamResult)
        return Completion(tuple(recorded), result)

    async def check(self, model: str, asker: Asker = NOBODY) -> Completion:
        """Is `model`'s provider reachable with our key? One request for one output token,
        with the body an answer would send; no retry, no fallback; on the ledger as `check`."""
        request = ChatRequest(model, CHECK_PROMPT, session_id=CHECK_SESSION, max_tokens=1)
        context = CallContext(asker, purpose="check")
        return await self.complete((model,), request, context, retries=0)

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str,
        asker: Asker = NOBODY,
        purpose: str = "embedding",
        fallbacks: Sequence[str] = (),
    ) -> Embedded:
        """One vector per text, from `model` (then each of `fallbacks`), as one ledger row
        per try, priced on its input tokens."""
        request = EmbeddingRequest(model, tuple(texts))
        context = CallContext(asker, purpose=purpose)
        models = (model, *fallbacks)
        prompt = sum(estimate_tokens(text) for text in texts)
        hold = await self._hold(asker, model, prompt)
        last: Recorded | None = None
        try:
            async with aclosing(self._dispatcher.embed(models, request)) as tries:
                async for event in tries:
                    if isinstance(event, Attempt):
                        last = await self._record(context, event, prompt, None)
        finally:
            hold.release()
        assert last is not None and isinstance(last.attempt.result, Embeddings)
        return Embedded(last.attempt.result.vectors, last.call.call_id, last.call.cost.nano_usd)

    async def settle_interrupted(
        self, context: CallContext, number: int, model: str, prompt: int, max_tokens: int
    ) -> None:
        """Put on the ledger a request a crashed process had in flight (at its bound)."""
        candidate = self._dispatcher.resolve(model)
        call, record = await self._recorder.record_interrupted(
            context, number, candidate, prompt, max_tokens
        )
        await self._tell(call.call_id, record)

    async def _hold(self, asker: Asker, model: str, prompt: int) -> Hold:
        hold = await self._holds.reserve(asker, self._dispatcher.resolve(model).priced_as, prompt)
        if hold.block_message:
            raise BudgetExceeded(hold.block_message)
        return hold

    async def _record(
        self, context: CallContext, attempt: Attempt, prompt: int, text: str | None
    ) -> Recorded:
        call, record = await self._recorder.record(context, attempt, prompt, text)
        await self._tell(call.call_id, record)
        return Recorded(attempt, call, text)

    async def _tell(self, call_id: int, record: CallRecord) -> None:
        for observer in self._observers:
            try:
                await observer.on_call(call_id, record)
            except Exception:  # an observer must never break a call
                log.exception("call observer %r failed", observer)
