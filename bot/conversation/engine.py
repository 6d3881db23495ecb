"""The conversation engine: one neutral message in, one streamed, costed, recorded answer out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.conversation.locks import KeyedLocks
from bot.conversation.messages import AnswerMeta, Incoming, Outcome, Reply
from bot.conversation.ports import AllowAll, CallObserver, Guard, StrategyPicker
from bot.conversation.prompt import TRIM_NOTICE, build_messages, history_window, parse_question
from bot.conversation.text import clean_text
from bot.errors import ProviderError, StreamBroken
from bot.llm.dispatch import Attempt, Dispatcher
from bot.llm.pricing import Pricer, estimate_tokens, price_attempt
from bot.llm.types import ChatMessage, ChatRequest, Usage
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
        self.dispatcher = dispatcher
        self.pricer = pricer
        self.config = config
        self.clock = clock
        self._picker = picker
        self._guard = guard or AllowAll()
        self._observers = list(observers)
        self._locks = KeyedLocks()

    def add_observer(self, observer: CallObserver) -> None:
        self._observers.append(observer)

    async def handle(self, incoming: Incoming, reply: Reply) -> Outcome:
        """Answer `incoming` once, streaming into `reply`; a repeated event id is ignored."""
        question = parse_question(clean_text(incoming.text), self.config.max_question_tokens)
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
                history_limit=self.config.history_max_messages,
            )
            if turn is None:
                log.info("duplicate event %s ignored", incoming.event_id[:80])
                return Outcome("duplicate")
            verdict = await self._guard.check(incoming)
            if verdict.block_message:
                await reply.fail(verdict.block_message)
                return Outcome("blocked", message=verdict.block_message)
            history = history_window(turn.history, self.config.history_token_budget)
            assignment = await self._picker.pick(incoming, turn.thread_id, turn.channel_strategy)
            if assignment.experiment and assignment.variant and not turn.variant:
                await self.conversations.set_thread_variant(
                    turn.thread_id, assignment.experiment, assignment.variant
                )
            decision = assignment.strategy.decide(
                RouteRequest(
                    text=question.text,
                    context=tuple(t.text for t in history if t.role == "user"),
                    forced_tier=incoming.forced_tier or question.forced_tier,
                    default_tier=parse_tier(turn.channel_tier or ""),
                    ceiling_tier=verdict.ceiling_tier,
                )
            )
            answer = _Answer(
                self,
                incoming,
                turn,
                decision,
                build_messages(self.config.system_prompt, history, question.text),
                experiment=assignment.experiment or turn.experiment,
                variant=assignment.variant or turn.variant,
                notice=TRIM_NOTICE.format(chars=len(question.text)) if question.trimmed else "",
            )
            return await answer.run(reply)

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
        """Store one call attempt and tell the observers; its call id."""
        call_id, _ = await self.store_attempt(record, None)
        return call_id

    async def store_attempt(self, record: CallRecord, answer: str | None) -> tuple[int, int | None]:
        """Store an attempt, with the answer it produced in the same transaction when there is
        one; (call id, answer message id)."""
        answer_id: int | None = None
        if answer is None:
            call_id = await self.conversations.record_call(record)
        else:
            call_id, answer_id = await self.conversations.record_answered_call(record, answer)
        await self._notify(call_id, record)
        return call_id, answer_id

    async def _notify(self, call_id: int, record: CallRecord) -> None:
        for observer in self._observers:
            try:
                await observer.on_call(call_id, record)
            except Exception:  # an observer must never break an answer
                log.exception("call observer %r failed", observer)


@dataclass
class _Ledger:
    """What the attempt that produced the answer cost (the last attempt recorded)."""

    call_id: int = 0
    answer_id: int = 0
    answer: str = ""
    cost_nano_usd: int | None = None
    cost_source: str = "unpriced"
    usage: Usage | None = None


class _Answer:
    """One answer in progress: its attempts, their ledger rows, and the reply."""

    def __init__(
        self,
        engine: Engine,
        incoming: Incoming,
        turn: StartedTurn,
        decision: Decision,
        messages: tuple[ChatMessage, ...],
        *,
        experiment: str | None,
        variant: str | None,
        notice: str,
    ) -> None:
        self.engine = engine
        self.incoming = incoming
        self.turn = turn
        self.decision = decision
        self.messages = messages
        self.experiment = experiment
        self.variant = variant
        self.notice = notice
        self.started = time.perf_counter()
        self.prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in messages)
        self.ledger = _Ledger()

    def request(self, model: str) -> ChatRequest:
        return ChatRequest(
            model=model,
            messages=self.messages,
            session_id=f"thread-{self.turn.thread_id}",
            max_tokens=self.engine.config.max_output_tokens,
            extra_body=self.decision.extra_body,
        )

    async def run(self, reply: Reply) -> Outcome:
        await reply.start()
        if self.notice:
            await reply.append(self.notice)
        try:
            _attempt, result = await self.engine.dispatcher.run(
                self.decision.models, self.request, reply.append, self.on_attempt
            )
        except StreamBroken as error:
            if error.partial is None or not error.partial.text:
                await reply.fail(str(error))
                return Outcome("failed", message=str(error))
            return await self.finish(reply, error.partial.model_served, incomplete=True)
        except ProviderError as error:
            await reply.fail(str(error))
            return Outcome("failed", message=str(error))
        return await self.finish(reply, result.model_served, incomplete=False)

    def answer_text(self, text: str, *, incomplete: bool) -> str:
        return self.notice + text + (INCOMPLETE_NOTICE if incomplete else "")

    async def finish(self, reply: Reply, served: str | None, *, incomplete: bool) -> Outcome:
        ledger = self.ledger
        meta = AnswerMeta(
            call_id=ledger.call_id,
            model=served or self.decision.models[0],
            tier=self.decision.tier,
            strategy=self.decision.strategy,
            cost_nano_usd=ledger.cost_nano_usd,
            cost_source=ledger.cost_source,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            input_tokens=ledger.usage.input_tokens if ledger.usage else None,
            output_tokens=ledger.usage.output_tokens if ledger.usage else None,
            incomplete=incomplete,
            thread_id=self.turn.thread_id,
            answer_id=ledger.answer_id,
        )
        posted = await reply.finish(ledger.answer, meta)
        if posted:
            await self.engine.conversations.record_posts(
                self.incoming.platform, posted, ledger.call_id
            )
        return Outcome("incomplete" if incomplete else "answered", meta=meta)

    async def on_attempt(self, attempt: Attempt) -> None:
        """Price one attempt and store it; the attempt that produced text also stores the answer
        in the same transaction (it is final: nothing is retried once text reached the user)."""
        result, error = attempt.result, attempt.error
        engine = self.engine
        cost = price_attempt(engine.pricer, attempt.model_asked, result, self.prompt_tokens)
        cost_nano, source, tokens = cost.nano_usd, cost.source.value, cost.usage
        baseline = None
        if tokens is not None and engine.config.baseline_model:
            baseline = engine.pricer.price(engine.config.baseline_model, tokens)
        produced = result is not None and bool(result.text)
        status = "ok" if error is None else "incomplete" if produced else "error"
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
            created_at=engine.clock(),
        )
        answer = None
        if produced and result is not None:
            answer = self.answer_text(result.text, incomplete=error is not None)
        call_id, answer_id = await engine.store_attempt(record, answer)
        self.ledger = _Ledger(call_id, answer_id or 0, answer or "", cost_nano, source, tokens)
