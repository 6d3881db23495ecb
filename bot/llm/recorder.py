"""Prices one call attempt and stores it as one ledger row (`bot.llm.calls.Calls` calls it for
every attempt it makes, whatever the purpose)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.llm.dispatch import Attempt
from bot.llm.errors import Interrupted
from bot.llm.pricing import AttemptCost, Pricer, price_attempt
from bot.llm.types import Asker, Usage
from routing.candidates import Candidate
from storage.records import CallRecord
from storage.tables import utcnow


@dataclass(frozen=True)
class CallContext:
    """What a call row says besides the attempt itself: who asked, what for, why this model."""

    asker: Asker
    purpose: str = "answer"  # answer | judge | shadow | check | embedding
    strategy: str = ""  # "": the purpose
    thread_id: int | None = None  # the question answered (None: a check, an embedding)
    message_id: int | None = None
    tier: str | None = None
    score: float | None = None
    reasons: str = ""
    decision_us: int | None = None
    escalation: bool = False
    escalated_from: int | None = None
    experiment: str | None = None
    variant: str | None = None
    router_version: int | None = None


@dataclass(frozen=True)
class RecordedCall:
    call_id: int  # 0 while the row waits in the spool (database outage)
    answer_id: int | None
    cost: AttemptCost
    key: str = ""  # the row's unique key (finds it once it is stored)


class CallStore(Protocol):
    """Where rows go: `storage.conversations.Conversations` (the ledger)."""

    async def record_call(self, record: CallRecord) -> int: ...

    async def record_answered_call(self, record: CallRecord, answer: str) -> tuple[int, int]: ...


class CallRecorder:
    def __init__(
        self,
        conversations: CallStore,
        pricer: Pricer,
        *,
        baseline_model: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        redact: Callable[[str], str] = str,
    ) -> None:
        self._conversations = conversations
        self._redact = redact  # a provider's error may echo a secret (its API key)
        self._pricer = pricer
        self._baseline_model = baseline_model
        self._clock = clock

    async def record(
        self, context: CallContext, attempt: Attempt, prompt_tokens: int, answer: str | None = None
    ) -> tuple[RecordedCall, CallRecord]:
        """Price and store one attempt; `answer` (the text the user got) is stored with it in
        the same transaction."""
        cost = price_attempt(self._pricer, attempt.model_asked, attempt.result, prompt_tokens,
                             price_as=attempt.candidate.price_as)  # fmt: skip
        record = self._row(context, attempt, cost)
        return await self._store(record, cost, answer), record

    async def record_interrupted(
        self,
        context: CallContext,
        number: int,
        candidate: Candidate,
        prompt_tokens: int,
        max_tokens: int,
    ) -> tuple[RecordedCall, CallRecord]:
        """A request that was in flight when the process died: nobody saw how it ended, so it
        is charged at its bound (the prompt plus `max_tokens` of output), flagged estimated."""
        bound = Usage(prompt_tokens, max_tokens)
        priced = self._pricer.cost(candidate.priced_as, reported_usd=None, usage=None,
                                   estimated_usage=bound)  # fmt: skip
        cost = AttemptCost(priced.nano_usd, priced.source, bound)
        error = Interrupted(detail="the process stopped during this request; cost is its bound")
        record = self._row(context, Attempt(number, candidate, None, error, 0), cost)
        return await self._store(record, cost, None), record

    async def _store(
        self, record: CallRecord, cost: AttemptCost, answer: str | None
    ) -> RecordedCall:
        if answer is None:
            call_id = await self._conversations.record_call(record)
            answer_id = None
        else:
            call_id, answer_id = await self._conversations.record_answered_call(record, answer)
        return RecordedCall(call_id, answer_id, cost, record.key or "")

    def _row(self, context: CallContext, attempt: Attempt, cost: AttemptCost) -> CallRecord:
        result, error, usage, asker = attempt.result, attempt.error, cost.usage, context.asker
        baseline = None  # savings compare answers only: judge, shadow and checks are overhead
        if usage is not None and self._baseline_model and context.purpose == "answer":
            baseline = self._pricer.price(self._baseline_model, usage)
        status = "ok" if error is None else "incomplete" if attempt.produced_text else "error"
        return CallRecord(
            thread_id=context.thread_id,
            message_id=context.message_id,
            platform=asker.platform,
            workspace=asker.workspace,
            channel=asker.channel,
            user=asker.user,
            purpose=context.purpose,
            provider=attempt.candidate.provider,
            strategy=context.strategy or context.purpose,
            tier=context.tier,
            score=context.score,
            reasons=context.reasons,
            model_asked=attempt.model_asked,
            model_served=result.model_served if result else None,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            cache_read_tokens=usage.cache_read_tokens if usage else None,
            cache_write_tokens=usage.cache_write_tokens if usage else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
            cost_nano_usd=cost.nano_usd,
            cost_source=cost.source.value,
            baseline_cost_nano_usd=baseline,
            latency_ms=attempt.latency_ms,
            ttft_ms=result.ttft_ms if result else None,
            decision_us=context.decision_us,
            status=status,
            error_kind=error.kind if error else None,
            error=self._redact(error.detail) if error else None,
            attempt=attempt.number,
            escalation=context.escalation,
            escalated_from=context.escalated_from,
            experiment=context.experiment,
            variant=context.variant,
            router_version=context.router_version,
            created_at=self._clock(),
            key=uuid.uuid4().hex,
        )
