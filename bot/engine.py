"""The conversation engine: one neutral message in, one streamed, costed, recorded answer out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.hooks import AllowAll, CallObserver, Guard, StrategyPicker
from bot.locks import KeyedLocks
from bot.messages import AnswerMeta, Incoming, Outcome, Reply
from bot.prompt import TRIM_NOTICE, build_messages, history_window, parse_question
from bot.text import clean_text
from routing.dispatch import Attempt, Dispatcher
from routing.errors import ProviderError, StreamBroken
from routing.pricing import Pricer, estimate_tokens
from routing.provider import ChatMessage, ChatRequest, StreamResult, Usage
from routing.strategy import Decision, RouteRequest
from routing.tiers import parse_tier, tier_above
from storage.conversations import CallRecord, Conversations, StartedTurn, ThreadRef, digest
from storage.tables import utcnow

log = logging.getLogger(__name__)

EMPTY_MESSAGE = "I didn't find any text in that message. Please type your question."
INCOMPLETE_NOTICE = "\n\n_[Answer incomplete: the model stopped mid-answer. Ask again to retry.]_"


@dataclass(frozen=True)
class EngineConfig:
    system_prompt: str
    history_token_budget: int = 3000
    history_max_messages: int = 40
    max_question_tokens: int = 6000
    max_output_tokens: int | None = 1024
    baseline_model: str | None = None


class Engine:
    def __init__(
        self,
        conversations: Conversations,
        dispatcher: Dispatcher,
        picker: StrategyPicker,
        pricer: Pricer,
        config: EngineConfig,
        guard: Guard | None = None,
        observers: Sequence[CallObserver] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.conversations = conversations
        self._dispatcher = dispatcher
        self._picker = picker
        self._pricer = pricer
        self._config = config
        self._guard = guard or AllowAll()
        self._observers = list(observers)
        self._clock = clock
        self._locks = KeyedLocks()

    def add_observer(self, observer: CallObserver) -> None:
        self._observers.append(observer)

    async def handle(self, incoming: Incoming, reply: Reply) -> Outcome:
        """Answer `incoming` once, streaming into `reply`; a repeated event id is ignored."""
        text = clean_text(incoming.text)
        if not text:
            await reply.fail(EMPTY_MESSAGE)
            return Outcome("rejected", message=EMPTY_MESSAGE)
        question = parse_question(text, self._config.max_question_tokens)
        if not question.text.strip():
            await reply.fail(EMPTY_MESSAGE)
            return Outcome("rejected", message=EMPTY_MESSAGE)
        ref = ThreadRef(incoming.platform, incoming.workspace, incoming.channel, incoming.thread)
        async with self._locks.hold(ref.key):
            turn = await self.conversations.start_turn(
                ref,
                text=question.text,
                author=incoming.user,
                event_key=digest(incoming.platform, incoming.workspace, incoming.event_id),
            )
            if turn is None:
                log.info("duplicate event %s ignored", incoming.event_id[:80])
                return Outcome("duplicate")
            verdict = await self._guard.check(incoming)
            if verdict.block_message:
                await reply.fail(verdict.block_message)
                return Outcome("blocked", message=verdict.block_message)
            turns = await self.conversations.recent_turns(
                turn.thread_id, before_id=turn.message_id, limit=self._config.history_max_messages
            )
            history = history_window(turns, self._config.history_token_budget)
            tier_name, strategy_name = await self.conversations.channel_setting(
                incoming.platform, incoming.workspace, incoming.channel
            )
            assignment = await self._picker.pick(incoming, turn.thread_id, strategy_name)
            if assignment.experiment and assignment.variant and not turn.variant:
                await self.conversations.set_thread_variant(
                    turn.thread_id, assignment.experiment, assignment.variant
                )
            decision = assignment.strategy.decide(
                RouteRequest(
                    text=question.text,
                    context=tuple(t.text for t in history if t.role == "user"),
                    forced_tier=incoming.forced_tier or question.forced_tier,
                    default_tier=parse_tier(tier_name or ""),
                    ceiling_tier=verdict.ceiling_tier,
                )
            )
            messages = build_messages(self._config.system_prompt, history, question.text)
            notice = TRIM_NOTICE.format(chars=len(question.text)) if question.trimmed else ""
            call = _Call(self, incoming, turn, decision, messages, assignment.experiment,
                         assignment.variant)  # fmt: skip
            return await call.run(reply, notice)

    async def escalate(self, call_id: int, user: str, reply: Reply) -> Outcome:
        """Re-answer the question behind `call_id` one tier up, once per answer."""
        view = await self.conversations.call(call_id)
        text = await self.conversations.message_text(view.message_id) if view else None
        if view is None or text is None:
            await reply.fail("I can't find that answer any more.")
            return Outcome("rejected")
        incoming = Incoming(
            platform=view.platform,
            workspace=view.workspace,
            channel=view.channel,
            thread=view.thread_external_id,
            user=user,
            text=text,
            event_id=f"escalate:{call_id}",
            forced_tier=tier_above(parse_tier(view.tier or "")),
            escalation=True,
        )
        return await self.handle(incoming, reply)

    async def record_attempt(self, record: CallRecord) -> int:
        call_id = await self.conversations.record_call(record)
        for observer in self._observers:
            try:
                await observer.on_call(call_id, record)
            except Exception:  # an observer must never break an answer
                log.exception("call observer %r failed", observer)
        return call_id


class _Call:
    """One answer in progress: the attempts, their ledger rows, and the reply."""

    def __init__(
        self,
        engine: Engine,
        incoming: Incoming,
        turn: StartedTurn,
        decision: Decision,
        messages: tuple[ChatMessage, ...],
        experiment: str | None,
        variant: str | None,
    ) -> None:
        self.engine = engine
        self.incoming = incoming
        self.turn = turn
        self.decision = decision
        self.messages = messages
        self.experiment = experiment or turn.experiment
        self.variant = variant or turn.variant
        self.started = time.perf_counter()
        self.last_call_id = 0
        self.prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in messages)

    def request(self, model: str) -> ChatRequest:
        return ChatRequest(
            model=model,
            messages=self.messages,
            session_id=(self.turn.thread_id and f"thread-{self.turn.thread_id}") or "",
            max_tokens=self.engine._config.max_output_tokens,
            extra_body=self.decision.extra_body,
        )

    async def run(self, reply: Reply, notice: str) -> Outcome:
        await reply.start()
        if notice:
            await reply.append(notice)
        try:
            _attempt, result = await self.engine._dispatcher.run(
                self.decision.models, self.request, reply.append, self.on_attempt
            )
        except StreamBroken as error:
            partial = error.partial
            if partial is None or not partial.text:
                await reply.fail(str(error))
                return Outcome("failed", message=str(error))
            return await self.finish(reply, notice + partial.text + INCOMPLETE_NOTICE, partial,
                                     incomplete=True)  # fmt: skip
        except ProviderError as error:
            await reply.fail(str(error))
            return Outcome("failed", message=str(error))
        return await self.finish(reply, notice + result.text, result, incomplete=False)

    async def finish(
        self, reply: Reply, text: str, result: StreamResult, *, incomplete: bool
    ) -> Outcome:
        engine = self.engine
        answer_id = await engine.conversations.record_answer(
            self.turn.thread_id, text, self.last_call_id
        )
        meta = AnswerMeta(
            call_id=self.last_call_id,
            model=result.model_served or self.decision.models[0],
            tier=self.decision.tier,
            strategy=self.decision.strategy,
            cost_nano_usd=self.last_cost,
            cost_source=self.last_source,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            input_tokens=self.last_usage.input_tokens if self.last_usage else None,
            output_tokens=self.last_usage.output_tokens if self.last_usage else None,
            incomplete=incomplete,
            thread_id=self.turn.thread_id,
            answer_id=answer_id,
        )
        posted = await reply.finish(text, meta)
        if posted:
            await engine.conversations.record_posts(
                self.incoming.platform, posted, self.last_call_id
            )
        return Outcome("incomplete" if incomplete else "answered", meta=meta)

    async def on_attempt(self, attempt: Attempt) -> None:
        result, error = attempt.result, attempt.error
        usage = result.usage if result else None
        estimated = None
        if result is not None and usage is None:
            estimated = Usage(self.prompt_tokens, estimate_tokens(result.text))
        model = (result.model_served if result else None) or attempt.model_asked
        cost_nano: int | None
        if result is None:
            # No output arrived: providers do not bill a request that failed before answering.
            cost_nano, source = 0, "unbilled"
        else:
            cost = self.engine._pricer.cost(
                model,
                reported_usd=result.reported_cost_usd,
                usage=usage,
                estimated_usage=estimated,
            )
            cost_nano, source = cost.nano_usd, cost.source.value
        tokens = usage or estimated
        baseline = None
        if tokens is not None and self.engine._config.baseline_model:
            baseline = self.engine._pricer.price(self.engine._config.baseline_model, tokens)
        status = "ok" if error is None else "incomplete" if result and result.text else "error"
        record = CallRecord(
            thread_id=self.turn.thread_id,
            message_id=self.turn.message_id,
            platform=self.incoming.platform,
            workspace=self.incoming.workspace,
            channel=self.incoming.channel,
            user=self.incoming.user,
            strategy=self.decision.strategy,
            tier=self.decision.tier,
            score=self.decision.score,
            reasons="; ".join(self.decision.reasons),
            model_asked=attempt.model_asked,
            model_served=result.model_served if result else None,
            input_tokens=tokens.input_tokens if tokens else None,
            output_tokens=tokens.output_tokens if tokens else None,
            cost_nano_usd=cost_nano,
            cost_source=source,
            baseline_cost_nano_usd=baseline,
            latency_ms=attempt.latency_ms,
            ttft_ms=result.ttft_ms if result else None,
            decision_us=self.decision.decision_us,
            status=status,
            error_kind=error.kind if error else None,
            error=error.detail if error else None,
            attempt=attempt.number,
            escalation=self.incoming.escalation,
            experiment=self.experiment,
            variant=self.variant,
            created_at=self.engine._clock(),
        )
        self.last_call_id = await self.engine.record_attempt(record)
        self.last_cost, self.last_source, self.last_usage = cost_nano, source, tokens

    last_cost: int | None = None
    last_source: str = "unpriced"
    last_usage: Usage | None = None

