"""One answer, one way: the metered call path's events in, reply and ledger rows out.

`Calls.stream` yields text (streamed into the reply), a `Trying` before each request (noted on
the question, so a crash during it is still charged) and a `Recorded` after each try (on the
ledger already); the attempt that produced text stores the answer with its call row. Answer
observers (judge, shadow comparisons) hear of the finished answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.conversation.inflight import in_flight, pending_call
from bot.conversation.lease import Leases
from bot.conversation.messages import AnswerMeta, Incoming, Outcome, Reply, Resumable
from bot.errors import BudgetExceeded
from bot.knowledge.citations import Citation
from bot.llm.calls import Calls, Recorded
from bot.llm.dispatch import Attempt, Trying
from bot.llm.errors import ProviderError
from bot.llm.pricing import prompt_tokens
from bot.llm.recorder import CallContext
from bot.llm.types import Asker, ChatMessage, ChatRequest
from bot.tasks import BackgroundTasks
from routing.strategy import Decision
from storage.conversations import Conversations
from storage.records import StartedTurn, StoredAnswer
from storage.tables import utcnow

log = logging.getLogger(__name__)

INCOMPLETE_NOTICE = "\n\n_[Answer incomplete: the model stopped mid-answer. Ask again to retry.]_"
APOLOGY = "Sorry, something went wrong while answering. The error was logged; please try again."
RESTARTING = "Switchboard is restarting; this answer will continue in a moment."


@dataclass(frozen=True)
class AnsweredQuestion:
    """A complete answer, as stored: what the judge and shadow comparisons look at."""

    call_id: int
    thread_id: int
    message_id: int
    asker: Asker
    question: str
    context: tuple[str, ...]  # earlier user messages of the thread, oldest first
    messages: tuple[ChatMessage, ...]  # exactly what the model was sent
    answer: str
    decision: Decision
    cost_nano_usd: int | None

    def overhead(self, purpose: str, tier: str | None = None) -> CallContext:
        """The context of a call made about this answer (judge, shadow): its question's thread
        and place, but no user: overhead is the deployment's, not counted in a user's budget."""
        return CallContext(
            dataclasses.replace(self.asker, user=""),
            purpose=purpose,
            thread_id=self.thread_id,
            message_id=self.message_id,
            tier=tier,
        )


class AnswerObserver(Protocol):
    """Told about every complete answer after it reached the user (never delays the reply)."""

    def on_answer(self, answer: AnsweredQuestion) -> None: ...


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
    sources: tuple[Citation, ...] = ()  # the docs' pages given to the model, cited under it

    def call_context(self) -> CallContext:
        d, i = self.decision, self.incoming
        return CallContext(
            i.asker,
            thread_id=self.turn.thread_id,
            message_id=self.turn.message_id,
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


class Answerer:
    def __init__(
        self,
        calls: Calls,
        conversations: Conversations,
        *,
        max_output_tokens: int | None = 1024,
        observers: Sequence[AnswerObserver] = (),
        lease_s: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._calls = calls
        self._conversations = conversations
        self._max_output_tokens = max_output_tokens
        self._observers = tuple(observers)
        self._leases = Leases(conversations, lease_s, clock)
        self._checkpoints = BackgroundTasks()  # the answer never waits for these writes

    def holds(self, message_id: int) -> bool:
        """Whether this process answers `message_id` now, or keeps writes of its answer for a
        database that is away: either way it is not lost, and nobody else may take it."""
        return self._leases.holds(message_id) or self._conversations.spool.holds(message_id)

    async def close(self) -> None:
        """Let the checkpoint writes in flight land (before the database closes)."""
        await self._checkpoints.drain()

    async def run(self, job: AnswerJob, reply: Reply) -> Outcome:
        """Answer `job` into `reply`. Whatever happens, the reply ends finished or failed (a
        stream is never left open), except when the process dies: then the question stays
        unfinished and is answered after the restart (see `Engine.recover`)."""
        started = time.perf_counter()
        turn = job.turn
        try:
            async with self._leases.held(turn):
                return await self._run(job, reply, started)
        except asyncio.CancelledError:
            # Stopping (not crashing): close the stream now; the question stays unfinished,
            # so the next start answers it in place.
            await _quietly(reply.fail(RESTARTING))
            raise
        except Exception:  # a bug must not leave the user with an open stream and silence
            log.exception("answering question %s failed", turn.message_id)
            await _quietly(reply.fail(APOLOGY))
            await self._conversations.fail_question(turn.message_id)
            return Outcome("failed", message=APOLOGY)

    async def _run(self, job: AnswerJob, reply: Reply, started: float) -> Outcome:
        turn = job.turn
        resumable = reply if isinstance(reply, Resumable) else None
        shown = turn.checkpoint
        await reply.start()
        shown = self._checkpoint(turn, resumable, shown)
        if job.notice:
            await reply.append(job.notice)
        request = ChatRequest(
            model=job.decision.models[0],
            messages=job.messages,
            session_id=f"thread-{turn.thread_id}",
            max_tokens=self._max_output_tokens,
            extra_body=job.decision.extra_body,
        )
        prompt = prompt_tokens(job.messages)
        context = job.call_context()
        final: Recorded | None = None
        events = self._calls.stream(job.decision.models, request, context,
                                    keep=lambda attempt: _stored_text(job, attempt))  # fmt: skip
        try:
            async with aclosing(events) as calls:
                async for event in calls:
                    if isinstance(event, str):
                        await reply.append(event)
                        shown = self._checkpoint(turn, resumable, shown)
                    elif isinstance(event, Trying):
                        pending = pending_call(context, event, prompt, request.max_tokens)
                        await self._conversations.begin_call(
                            turn.message_id, turn.owner, pending, self._leases.end()
                        )
                    else:
                        final = event
        except BudgetExceeded as blocked:  # a `block` budget refused the call: nothing asked
            await reply.fail(str(blocked))
            await self._conversations.fail_question(turn.message_id)
            return Outcome("blocked", message=str(blocked))
        except ProviderError as error:
            if final is None or not final.attempt.produced_text:
                await reply.fail(str(error))
                await self._conversations.fail_question(turn.message_id)
                return Outcome("failed", message=str(error))
            return await self._finish(job, reply, final, started, incomplete=True)
        assert final is not None  # the call path ends with the successful attempt
        return await self._finish(job, reply, final, started, incomplete=False)

    async def redeliver(self, job: AnswerJob, stored: StoredAnswer, reply: Reply) -> Outcome:
        """Post an answer that was stored before the crash (no second provider call)."""
        meta = AnswerMeta(
            call_id=stored.call_id,
            model=stored.model,
            tier=stored.tier,
            strategy=stored.strategy,
            cost_nano_usd=stored.cost_nano_usd,
            cost_source=stored.cost_source,
            latency_ms=stored.latency_ms or 0,
            input_tokens=stored.input_tokens,
            output_tokens=stored.output_tokens,
            thread_id=job.turn.thread_id,
            answer_id=stored.answer_id,
            sources=tuple(Citation(c.title, c.section, c.url, c.path) for c in stored.sources),
        )
        async with self._leases.held(job.turn):
            await reply.start()
            posted = await reply.finish(stored.text, meta)
            await self._conversations.finish_question(
                job.turn.message_id, job.incoming.platform, posted, stored.call_key,
                stored.call_id,
            )  # fmt: skip
        return Outcome("answered", meta=meta)

    async def settle_interrupted(self, turn: StartedTurn) -> None:
        """Put on the ledger the provider request a crashed process had in flight."""
        found = in_flight(turn)
        if found is not None:
            await self._calls.settle_interrupted(*found)

    def _checkpoint(self, turn: StartedTurn, reply: Resumable | None, saved: str) -> str:
        """Store which platform messages show this answer, when that changes (about once)."""
        if reply is None or not turn.owner:
            return saved
        now = reply.checkpoint
        if now and now != saved:
            write = self._conversations.set_checkpoint(turn.message_id, turn.owner, now)
            self._checkpoints.start(write, f"checkpoint-{turn.message_id}")
        return now or saved

    async def _finish(
        self, job: AnswerJob, reply: Reply, final: Recorded, started: float, *, incomplete: bool
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
            sources=job.sources if final.text else (),
        )
        posted = await reply.finish(final.text or "", meta)
        await self._conversations.finish_question(
            job.turn.message_id, job.incoming.platform, posted, call.key, call.call_id
        )
        if not incomplete and final.text and call.call_id:
            self._tell(job, final)
        return Outcome("incomplete" if incomplete else "answered", meta=meta)

    def _tell(self, job: AnswerJob, final: Recorded) -> None:
        answered = AnsweredQuestion(
            call_id=final.call.call_id,
            thread_id=job.turn.thread_id,
            message_id=job.turn.message_id,
            asker=job.incoming.asker,
            question=job.question,
            context=job.context,
            messages=job.messages,
            answer=final.text or "",
            decision=job.decision,
            cost_nano_usd=final.call.cost.nano_usd,
        )
        for observer in self._observers:
            try:
                observer.on_answer(answered)
            except Exception:  # an observer must never break an answer
                log.exception("answer observer %r failed", observer)


def _stored_text(job: AnswerJob, attempt: Attempt) -> str | None:
    """The answer stored with an attempt's row: what the user was shown, if it produced any."""
    if not attempt.produced_text or attempt.result is None:
        return None
    text = job.notice + attempt.result.text
    return text + INCOMPLETE_NOTICE if attempt.error is not None else text


async def _quietly(closing: Awaitable[None]) -> None:
    """Close a reply on the way out of a failure: a platform error here is only logged."""
    try:
        await closing
    except Exception:
        log.exception("could not close the reply")
