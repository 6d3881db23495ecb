"""Every LLM call attempt becomes one priced ledger row, and the call observers hear of it.

Answers, judge calls and shadow answers all record through one `CallRecorder`, so alerts,
metrics and model health see every call whoever made it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.errors import Interrupted
from bot.llm.dispatch import Attempt
from bot.llm.pricing import AttemptCost, Pricer, price_attempt
from bot.llm.types import Usage
from bot.ports import CallObserver
from storage.conversations import Conversations
from storage.records import CallRecord
from storage.tables import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallContext:
    """What a call row says besides the attempt itself: whose question, why this model."""

    thread_id: int
    message_id: int
    platform: str
    workspace: str
    channel: str
    user: str
    strategy: str
    purpose: str = "answer"  # answer | judge | shadow
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


class CallRecorder:
    def __init__(
        self,
        conversations: Conversations,
        pricer: Pricer,
        *,
        baseline_model: str | None = None,
        observers: Sequence[CallObserver] = (),
        clock: Callable[[], datetime] = utcnow,
        redact: Callable[[str], str] = str,
    ) -> None:
        self._conversations = conversations
        self._redact = redact  # a provider's error may echo a secret (its API key)
        self._pricer = pricer
        self._baseline_model = baseline_model
        self._observers = tuple(observers)
        self._clock = clock

    async def record(
        self, context: CallContext, attempt: Attempt, prompt_tokens: int, answer: str | None = None
    ) -> RecordedCall:
        """Price and store one attempt; `answer` (the text the user got) is stored with it in
        the same transaction."""
        cost = price_attempt(self._pricer, attempt.model_asked, attempt.result, prompt_tokens)
        record = self._row(context, attempt, cost)
        return await self._store(record, cost, answer)

    async def record_interrupted(
        self, context: CallContext, number: int, model: str, prompt_tokens: int, max_tokens: int
    ) -> RecordedCall:
        """A request that was in flight when the process died: nobody saw how it ended, so it
        is charged at its bound (the prompt plus `max_tokens` of output), flagged estimated."""
        bound = Usage(prompt_tokens, max_tokens)
        priced = self._pricer.cost(model, reported_usd=None, usage=None, estimated_usage=bound)
        cost = AttemptCost(priced.nano_usd, priced.source, bound)
        error = Interrupted(detail="the process stopped during this request; cost is its bound")
        attempt = Attempt(number, model, None, error, 0)
        return await self._store(self._row(context, attempt, cost), cost, None)

    async def _store(
        self, record: CallRecord, cost: AttemptCost, answer: str | None
    ) -> RecordedCall:
        if answer is None:
            call_id = await self._conversations.record_call(record)
            answer_id = None
        else:
            call_id, answer_id = await self._conversations.record_answered_call(record, answer)
        for observer in self._observers:
            try:
                await observer.on_call(call_id, record)
            except Exception:  # an observer must never break an answer
                log.exception("call observer %r failed", observer)
        return RecordedCall(call_id, answer_id, cost, record.key or "")

    def _row(self, context: CallContext, attempt: Attempt, cost: AttemptCost) -> CallRecord:
        result, error, usage = attempt.result, attempt.error, cost.usage
        baseline = None  # savings compare answers only: judge and shadow calls are overhead
        if usage is not None and self._baseline_model and context.purpose == "answer":
            baseline = self._pricer.price(self._baseline_model, usage)
        status = "ok" if error is None else "incomplete" if attempt.produced_text else "error"
        return CallRecord(
            thread_id=context.thread_id,
            message_id=context.message_id,
            platform=context.platform,
            workspace=context.workspace,
            channel=context.channel,
            user=context.user,
            purpose=context.purpose,
            strategy=context.strategy,
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
