"""The conversation engine: one neutral message in, one streamed, costed, recorded answer out.

`handle` stores the question (its event id makes it idempotent), checks budgets, routes it and
hands the answer to the `Answerer`; nothing further down calls back into the engine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.conversation.answer import Answerer, AnswerJob
from bot.conversation.locks import KeyedLocks
from bot.conversation.messages import Incoming, Outcome, Reply
from bot.conversation.policy import TierPolicy
from bot.conversation.prompt import TRIM_NOTICE, build_messages, history_window, parse_question
from bot.conversation.text import clean_text, has_visible_text
from bot.ports import Guard, GuardVerdict, StrategyPicker
from routing.strategy import RouteRequest
from routing.tiers import parse_tier, tier_above
from storage.conversations import Conversations
from storage.records import ThreadRef, digest

log = logging.getLogger(__name__)

EMPTY_MESSAGE = "I didn't find any text in that message. Please type your question."


@dataclass(frozen=True)
class EngineConfig:
    system_prompt: str
    history_token_budget: int = 3000
    history_max_messages: int = 40
    max_question_tokens: int = 6000
    tier_policy: TierPolicy = field(default_factory=TierPolicy)


class AllowAll:
    """The guard when no budget is configured."""

    async def check(self, incoming: Incoming) -> GuardVerdict:
        return GuardVerdict()


class Engine:
    def __init__(
        self,
        conversations: Conversations,
        picker: StrategyPicker,
        answerer: Answerer,
        config: EngineConfig,
        guard: Guard | None = None,
    ) -> None:
        self._conversations = conversations
        self._picker = picker
        self._answerer = answerer
        self._config = config
        self._guard = guard or AllowAll()
        self._locks = KeyedLocks()

    async def handle(self, incoming: Incoming, reply: Reply) -> Outcome:
        """Answer `incoming` once, streaming into `reply`; a repeated event id is ignored."""
        config = self._config
        question = parse_question(clean_text(incoming.text), config.max_question_tokens)
        if not has_visible_text(question.text):
            await reply.fail(EMPTY_MESSAGE)
            return Outcome("rejected", message=EMPTY_MESSAGE)
        ref = ThreadRef(incoming.platform, incoming.workspace, incoming.channel, incoming.thread)
        async with self._locks.hold(ref.key):
            turn = await self._conversations.start_turn(
                ref,
                text=question.text,
                author=incoming.user,
                event_key=digest(incoming.platform, incoming.workspace, incoming.event_id),
                history_limit=config.history_max_messages,
            )
            if turn is None:
                log.info("duplicate event %s ignored", incoming.event_id[:80])
                return Outcome("duplicate")
            verdict = await self._guard.check(incoming)
            if verdict.block_message:
                await reply.fail(verdict.block_message)
                return Outcome("blocked", message=verdict.block_message)
            history = history_window(turn.history, config.history_token_budget)
            context = tuple(t.text for t in history if t.role == "user")
            assignment = await self._picker.pick(incoming, turn)
            if assignment.experiment and assignment.variant and not turn.variant:
                await self._conversations.set_thread_variant(
                    turn.thread_id, assignment.experiment, assignment.variant
                )
            channel_tier = parse_tier(turn.channel_tier or "")
            forced = config.tier_policy.apply(
                incoming.forced_tier or question.forced_tier, channel_tier, incoming.admin
            )
            decision = assignment.strategy.decide(
                RouteRequest(
                    text=question.text,
                    context=context,
                    forced_tier=forced.tier,
                    default_tier=channel_tier,
                    ceiling_tier=verdict.ceiling_tier,
                    force_note=forced.reason,
                )
            )
            notice = forced.note
            if question.trimmed:
                notice += TRIM_NOTICE.format(chars=len(question.text))
            job = AnswerJob(
                incoming=incoming,
                turn=turn,
                decision=decision,
                messages=build_messages(config.system_prompt, history, question.text),
                question=question.text,
                context=context,
                experiment=assignment.experiment or turn.experiment,
                variant=assignment.variant or turn.variant,
                notice=notice,
            )
            return await self._answerer.run(job, reply)

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
            admin=admin,
        )
        return await self.handle(incoming, reply)
