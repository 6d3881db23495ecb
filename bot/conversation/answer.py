"""One answer, one way: dispatch events in, reply and ledger rows out.

The dispatcher yields text (streamed into the reply) and one `Attempt` per try (each recorded
once through the `CallRecorder`); the attempt that produced text stores the answer with its
call row. Answer observers (judge, shadow comparisons) hear of the finished answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass

from bot.conversation.messages import AnswerMeta, Incoming, Outcome, Reply
from bot.errors import ProviderError
from bot.llm.dispatch import Attempt, Dispatcher
from bot.llm.pricing import estimate_tokens
from bot.llm.recorder import CallContext, CallRecorder, RecordedCall
from bot.llm.types import ChatMessage, ChatRequest
from bot.ports import AnsweredQuestion, AnswerObserver
from routing.strategy import Decision
from storage.conversations import Conversations
from storage.records import StartedTurn

log = logging.getLogger(__name__)

INCOMPLETE_NOTICE = "\n\n_[Answer incomplete: the model stopped mid-answer. Ask again to retry.]_"


@dataclass(frozen=True)
class AnswerJob:
    """A question ready to answer: where it came from, how it was routed, what the model sees."""

    incoming: Incoming
    turn: StartedTurn
    decision: Decision
    messages: tuple[ChatMessage, ...]
    question: str
    context: tuple[str, ...]  # earlier user messages of the thread, oldest first
    experiment: str | None = None
    variant: str | None = None
    notice: str = ""  # shown before the answer (e.g. "your message was trimmed")

    def call_context(self) -> CallContext:
        d, i = self.decision, self.incoming
        return CallContext(
            thread_id=self.turn.thread_id,
            message_id=self.turn.message_id,
            platform=i.platform,
            workspace=i.workspace,
            channel=i.channel,
            user=i.user,
            strategy=d.strategy,
            tier=d.tier,
            score=d.score,
            reasons="; ".join(d.reasons),
            decision_us=d.decision_us,
            escalation=i.escalation,
            escalated_from=i.escalated_from,
            experiment=self.experiment,
            variant=self.variant,
            router_version=d.router_version,
        )


@dataclass(frozen=True)
class _Final:
    """The last attempt recorded, and the answer text stored with it (if it produced any)."""

    call: RecordedCall
    attempt: Attempt
    text: str


class Answerer:
    def __init__(
        self,
        dispatcher: Dispatcher,
        recorder: CallRecorder,
        conversations: Conversations,
        *,
        max_output_tokens: int | None = 1024,
        observers: Sequence[AnswerObserver] = (),
    ) -> None:
        self._dispatcher = dispatcher
        self._recorder = recorder
        self._conversations = conversations
        self._max_output_tokens = max_output_tokens
        self._observers = tuple(observers)

    async def run(self, job: AnswerJob, reply: Reply) -> Outcome:
        started = time.perf_counter()
        await reply.start()
        if job.notice:
            await reply.append(job.notice)
        request = ChatRequest(
            model=job.decision.models[0],
            messages=job.messages,
            session_id=f"thread-{job.turn.thread_id}",
            max_tokens=self._max_output_tokens,
            extra_body=job.decision.extra_body,
        )
        prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in job.messages)
        context = job.call_context()
        final: _Final | None = None
        try:
            async with aclosing(self._dispatcher.stream(job.decision.models, request)) as events:
                async for event in events:
                    if isinstance(event, str):
                        await reply.append(event)
                        continue
                    text = None
                    if event.produced_text and event.result is not None:
                        text = job.notice + event.result.text
                        if event.error is not None:
                            text += INCOMPLETE_NOTICE
                    call = await self._recorder.record(context, event, prompt_tokens, text)
                    final = _Final(call, event, text or "")
        except ProviderError as error:
            if final is None or not final.attempt.produced_text:
                await reply.fail(str(error))
                return Outcome("failed", message=str(error))
            return await self._finish(job, reply, final, started, incomplete=True)
        assert final is not None  # the dispatcher ends with the successful attempt
        return await self._finish(job, reply, final, started, incomplete=False)

    async def _finish(
        self, job: AnswerJob, reply: Reply, final: _Final, started: float, *, incomplete: bool
    ) -> Outcome:
        call, attempt = final.call, final.attempt
        served = attempt.result.model_served if attempt.result else None
        usage = call.cost.usage
        meta = AnswerMeta(
            call_id=call.call_id,
            model=served or attempt.model_asked,
            tier=job.decision.tier,
            strategy=job.decision.strategy,
            cost_nano_usd=call.cost.nano_usd,
            cost_source=call.cost.source.value,
            latency_ms=int((time.perf_counter() - started) * 1000),
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            incomplete=incomplete,
            thread_id=job.turn.thread_id,
            answer_id=call.answer_id or 0,
            score=job.decision.score,
            router_version=job.decision.router_version,
        )
        posted = await reply.finish(final.text, meta)
        if posted:
            await self._conversations.record_posts(job.incoming.platform, posted, call.call_id)
        if not incomplete and final.text:
            self._tell(job, final)
        return Outcome("incomplete" if incomplete else "answered", meta=meta)

    def _tell(self, job: AnswerJob, final: _Final) -> None:
        i = job.incoming
        answered = AnsweredQuestion(
            call_id=final.call.call_id,
            thread_id=job.turn.thread_id,
            message_id=job.turn.message_id,
            platform=i.platform,
            workspace=i.workspace,
            channel=i.channel,
            user=i.user,
            question=job.question,
            context=job.context,
            messages=job.messages,
            answer=final.text,
            decision=job.decision,
            cost_nano_usd=final.call.cost.nano_usd,
        )
        for observer in self._observers:
            try:
                observer.on_answer(answered)
            except Exception:  # an observer must never break an answer
                log.exception("answer observer %r failed", observer)
