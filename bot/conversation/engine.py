"""The conversation engine: one neutral message in, one streamed, costed, recorded answer out.

`handle` stores the question (its event id makes it idempotent, its lease makes one replica
answer it), checks budgets, routes it and hands the answer to the `Answerer`; nothing further
down calls back into the engine. `take` stores a question alone (`bot.conversation.intake`),
so that an adapter can store it before it acknowledges the platform; `handle` then answers it.
`recover` answers a question a crash left unanswered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from bot.conversation.answer import Answerer, AnswerJob
from bot.conversation.handoff import hand_off
from bot.conversation.intake import Intake, Taken
from bot.conversation.lease import Leases
from bot.conversation.locks import KeyedLocks
from bot.conversation.messages import Incoming, Outcome, Reply, Resumable
from bot.conversation.patience import for_the_user
from bot.conversation.policy import TierPolicy
from bot.conversation.prompt import (
    TRIM_NOTICE,
    Question,
    build_messages,
    history_window,
    parse_question,
)
from bot.conversation.recovery import Recovery
from bot.conversation.text import clean_text
from bot.errors import ServiceUnavailable
from bot.knowledge.grounding import DOCUMENTS_ARE_DATA, NOT_COVERED, Librarian, ground
from bot.llm.types import Asker
from routing.strategy import Decision, RouteRequest, Strategy
from routing.tiers import Tier, parse_tier, tier_above
from storage.conversations import Conversations
from storage.database import DatabaseUnavailable
from storage.records import StartedTurn, ThreadRef
from storage.tables import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

EMPTY_MESSAGE = "I didn't find any text in that message. Please type your question."
STALE = (
    "Sorry, Switchboard restarted before it could answer this, and it was a while ago. "
    "Please ask again if you still need an answer."
)


@dataclass(frozen=True)
class EngineConfig:
    system_prompt: str
    history_token_budget: int = 3000
    history_max_messages: int = 40
    max_question_tokens: int = 6000
    tier_policy: TierPolicy = field(default_factory=TierPolicy)
    lease_s: float = 30.0  # a question's lease, renewed while answering
    recovery_max_age_s: float = 300.0  # older unanswered questions get an apology instead
    db_wait_s: float = 10.0  # how long a question waits for the database before "slow"
    recovery_interval_s: float = 15.0  # between looks for questions a crash left unanswered


@dataclass(frozen=True)
class GuardVerdict:
    ceiling_tier: Tier | None = None  # cap the routing tier (budget downgrade)
    block_message: str | None = None  # answer with this instead of calling an LLM


class Guard(Protocol):
    """Decides, before routing, whether spending is allowed (budgets). Once routed, the call
    path holds the call's estimated cost (`bot.llm.calls.Holds`)."""

    async def check(self, asker: Asker) -> GuardVerdict: ...


@dataclass(frozen=True)
class Assignment:
    strategy: Strategy
    experiment: str | None = None
    variant: str | None = None


class StrategyPicker(Protocol):
    """Chooses the strategy for a thread: an experiment's variant, or the default."""

    async def pick(self, incoming: Incoming, turn: StartedTurn) -> Assignment: ...


class AllowAll:
    """The guard when no budget is configured."""

    async def check(self, asker: Asker) -> GuardVerdict:
        return GuardVerdict()


class Engine:
    def __init__(
        self,
        conversations: Conversations,
        picker: StrategyPicker,
        answerer: Answerer,
        config: EngineConfig,
        guard: Guard | None = None,
        clock: Callable[[], datetime] = utcnow,
        librarian: Librarian | None = None,
    ) -> None:
        self._clock = clock
        self._librarian = librarian
        self._conversations = conversations
        self._picker = picker
        self._answerer = answerer
        self._config = config
        self._guard = guard or AllowAll()
        self._locks = KeyedLocks()
        self._leases = Leases(conversations, config.lease_s, clock)
        # What a crash or an outage left unanswered (bot/conversation/recovery.py).
        recovery = Recovery(
            conversations, self._leases, self._locks, answerer.holds, self._resume, clock,
            lease_s=config.lease_s, interval_s=config.recovery_interval_s,
            history_limit=config.history_max_messages,
        )  # fmt: skip
        self.recover, self.recover_all = recovery.recover, recovery.recover_all
        self.keep_recovering = recovery.keep_recovering
        self._intake = Intake(conversations, self._leases, clock=clock,
                              max_question_tokens=config.max_question_tokens)  # fmt: skip

    async def take(self, incoming: Incoming, wait_s: float) -> Taken:
        """Store the question within `wait_s`, before the platform is acknowledged."""
        return await self._intake.take(incoming, wait_s)

    async def handle(self, incoming: Incoming, reply: Reply, taken: Taken | None = None) -> Outcome:
        """Answer `incoming` once, streaming into `reply`; a repeated event id is ignored,
        unless its question was left unanswered by a crash (then it is answered now).
        `taken`: what `take` already did with it."""
        taken = taken or self._intake.receive(incoming)
        question = taken.question
        if question is None:
            await reply.fail(EMPTY_MESSAGE)
            return Outcome("rejected", message=EMPTY_MESSAGE)
        if taken.duplicate:
            log.info("duplicate event %s ignored", incoming.event_id[:80])
            return Outcome("duplicate")
        ref = ThreadRef(incoming.platform, incoming.workspace, incoming.channel, incoming.thread)
        async with self._locks.hold(ref.key):
            stored, history = taken.turn, self._config.history_max_messages
            # Whether the knowledge base has anything for this channel is read with the question.
            kb = self._librarian.config.collections(incoming.channel) if self._librarian else None
            try:
                # Stored by `take` before an earlier question of its thread was answered: read
                # the thread again, now that it is this question's turn.
                turn = await self._patiently(
                    (lambda: self._intake.store(taken, history, kb)) if stored is None
                    else (lambda: self._conversations.reload_turn(stored, history, kb)),
                    taken.arrived, reply,
                )  # fmt: skip
            except DatabaseUnavailable as error:
                log.warning("question %s not stored: %s", incoming.event_id[:80], error)
                await reply.fail(ServiceUnavailable.user_message)
                if stored is not None:
                    await self._conversations.fail_question(stored.message_id)
                return Outcome("failed", message=ServiceUnavailable.user_message)
            if turn is None:
                log.info("duplicate event %s ignored", incoming.event_id[:80])
                return Outcome("duplicate")
            if turn.resumed:
                log.info("event %s redelivered unanswered: answering it now", incoming.event_id)
                return await self._resume(incoming, turn, reply)
            return await self._answer(incoming, question, turn, reply, taken.arrived)

    async def _resume(self, incoming: Incoming, turn: StartedTurn, reply: Reply) -> Outcome:
        """Answer a question taken over (its lease ran out): settle the request a crashed
        process had in flight, then post the stored answer, or answer it, or apologise."""
        if turn.checkpoint and isinstance(reply, Resumable):
            reply.resume(turn.checkpoint)  # complete or replace the half-written message
        await self._answerer.settle_interrupted(turn)
        arrived = turn.created_at or self._clock()
        if (self._clock() - arrived).total_seconds() > self._config.recovery_max_age_s:
            await reply.fail(STALE)
            await self._conversations.fail_question(turn.message_id)
            return Outcome("failed", message=STALE)
        question = parse_question(clean_text(incoming.text), self._config.max_question_tokens)
        stored = await self._conversations.stored_answer(turn.message_id)
        if stored is not None:
            job = AnswerJob(incoming, turn, Decision(stored.strategy, ()), (), question.text, ())
            return await self._answerer.redeliver(job, stored, reply)
        return await self._answer(incoming, question, turn, reply, time.monotonic())

    async def _answer(
        self,
        incoming: Incoming,
        question: Question,
        turn: StartedTurn,
        reply: Reply,
        arrived: float,
    ) -> Outcome:
        config = self._config

        async def route_inputs() -> tuple[GuardVerdict, Assignment]:
            verdict = await self._guard.check(incoming.asker)
            assignment = await self._picker.pick(incoming, turn)
            if assignment.experiment and assignment.variant and not turn.variant:
                await self._conversations.set_thread_variant(
                    turn.thread_id, assignment.experiment, assignment.variant
                )
            return verdict, assignment

        try:
            verdict, assignment = await self._patiently(route_inputs, arrived, reply)
        except DatabaseUnavailable as error:
            log.warning("question %s: database unavailable (%s)", turn.message_id, error)
            await reply.fail(ServiceUnavailable.user_message)
            await self._conversations.fail_question(turn.message_id)
            return Outcome("failed", message=ServiceUnavailable.user_message)
        if verdict.block_message:
            await reply.fail(verdict.block_message)
            await self._conversations.fail_question(turn.message_id)
            return Outcome("blocked", message=verdict.block_message)
        history = history_window(turn.history, config.history_token_budget)
        context = tuple(t.text for t in history if t.role == "user")
        channel_tier = parse_tier(turn.channel_tier or "")
        forced = config.tier_policy.apply(
            incoming.forced_tier or question.forced_tier, channel_tier, incoming.admin
        )
        # Retrieval comes first: how well the docs answer the question is a routing feature.
        grounding = await ground(self._librarian, incoming.asker, turn.message_id, question.text,
                                 turn.documents)  # fmt: skip
        if grounding.in_use and not grounding.covered and not grounding.answer_anyway:
            return await hand_off(reply, self._conversations, turn.message_id, incoming.platform)
        decision = assignment.strategy.decide(
            RouteRequest(
                text=question.text,
                context=context,
                forced_tier=forced.tier,
                default_tier=channel_tier,
                ceiling_tier=verdict.ceiling_tier,
                force_note=forced.reason,
                retrieval=grounding.confidence if grounding.in_use else None,
            )
        )
        system = config.system_prompt
        if grounding.passages:
            system = f"{system}\n\n{DOCUMENTS_ARE_DATA}"
        messages = build_messages(system, history, grounding.documents_block(question.text))
        notice = forced.note
        if question.trimmed:
            notice += TRIM_NOTICE.format(chars=len(question.text))
        if grounding.in_use and not grounding.covered:
            notice += f"_{NOT_COVERED}_\n\n"
        job = AnswerJob(
            incoming=incoming,
            turn=turn,
            decision=decision,
            messages=messages,
            question=question.text,
            context=context,
            experiment=assignment.experiment or turn.experiment,
            variant=assignment.variant or turn.variant,
            notice=notice,
            sources=grounding.citations,
        )
        return await self._answerer.run(job, reply)

    async def _patiently(self, op: Callable[[], Awaitable[T]], arrived: float, reply: Reply) -> T:
        """`op()`, waiting for the database: "longer than usual" by `db_wait_s`, given up
        after `recovery_max_age_s` (an older question would get an apology anyway)."""
        c = self._config
        return await for_the_user(op, reply, arrived=arrived, slow_s=c.db_wait_s,
                                  max_s=c.recovery_max_age_s)  # fmt: skip

    async def escalate(
        self, call_id: int, user: str, reply: Reply, *, admin: bool = False
    ) -> Outcome:
        """Re-answer the question behind `call_id` one tier up, once per answer."""
        view = await self._conversations.call(call_id)
        text = await self._conversations.message_text(view.message_id) if view else None
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
            escalated_from=call_id,
            admin=admin,
        )
        return await self.handle(incoming, reply)
