"""Shadow comparisons: a sample of answered questions is also answered by another tier, in the
background, and a judge scores both answers. Each comparison is a labelled example of the
deployment's own traffic: the router learns from these.

The user's reply is never delayed or changed: the comparison starts after the answer was
delivered, in its own task. Shadow and judge calls are real spend, recorded on the ledger with
their own purpose (`shadow`, `judge`), never counted in an experiment variant's cost. Shadowing
pauses while any budget that applies to the question is past its first alert threshold.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.learning.verdict import PairVerdict, pair_request, parse_pair
from bot.llm.dispatch import Dispatcher, complete
from bot.llm.pricing import estimate_tokens
from bot.llm.recorder import CallContext, CallRecorder
from bot.llm.types import ChatRequest
from bot.ports import AnsweredQuestion
from routing.tiers import Tier
from storage.learning import Comparison, LearningData

log = logging.getLogger(__name__)


class SpendGate(Protocol):
    """Says whether background spending (shadow comparisons) should pause for a question."""

    async def past_first_threshold(
        self, platform: str, workspace: str, channel: str, user: str
    ) -> bool: ...


@dataclass(frozen=True)
class ShadowConfig:
    sample_rate: float
    judge_model: str
    tiers: Mapping[Tier, tuple[str, ...]]  # each tier's pool; its first model answers the shadow
    max_output_tokens: int = 1024


def shadow_sampled(question_id: int, rate: float) -> bool:
    """Deterministic by the question's message id: every replica, and an answer retried after a
    restart, decides the same way, and the sample does not depend on how the background calls
    of earlier comparisons interleaved with live ones. Independent of the judge's own sample."""
    digest = hashlib.blake2b(f"shadow:{question_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10_000 < round(rate * 10_000)


def other_tier(tier: Tier) -> Tier:
    """A cheaper answer is compared with premium; a premium one with the budget tier."""
    return "budget" if tier == "premium" else "premium"


class ShadowComparer:
    """An `AnswerObserver`."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        recorder: CallRecorder,
        store: LearningData,
        gate: SpendGate,
        config: ShadowConfig,
    ) -> None:
        self._dispatcher = dispatcher
        self._recorder = recorder
        self._store = store
        self._gate = gate
        self._config = config
        self._tasks: set[asyncio.Task[None]] = set()

    def on_answer(self, answer: AnsweredQuestion) -> None:
        tier = answer.decision.tier
        if tier is None or not shadow_sampled(answer.message_id, self._config.sample_rate):
            return
        task = asyncio.create_task(self._compare(answer, tier), name=f"shadow-{answer.call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every comparison in flight (tests, replay, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _compare(self, answer: AnsweredQuestion, tier: Tier) -> None:
        try:
            gate = self._gate
            if await gate.past_first_threshold(answer.platform, answer.workspace,
                                               answer.channel, answer.user):  # fmt: skip
                log.info("shadow: paused (a budget is past its first alert threshold)")
                return
            await self._shadow(answer, tier)
        except Exception:  # a background comparison must never take the bot down
            log.exception("shadow: comparing call %s failed", answer.call_id)

    def _context(self, answer: AnsweredQuestion, purpose: str, tier: str | None) -> CallContext:
        return CallContext(
            thread_id=answer.thread_id,
            message_id=answer.message_id,
            platform=answer.platform,
            workspace=answer.workspace,
            channel=answer.channel,
            user="",
            strategy=purpose,
            purpose=purpose,
            tier=tier,
        )

    async def _shadow(self, answer: AnsweredQuestion, tier: Tier) -> None:
        shadow_tier = other_tier(tier)
        model = self._config.tiers[shadow_tier][0]
        request = ChatRequest(model=model, messages=answer.messages,
                              max_tokens=self._config.max_output_tokens)  # fmt: skip
        prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in answer.messages)
        attempts, result, error = await complete(self._dispatcher, (model,), request)
        shadow_cost = None
        shadow_call_id = None
        for attempt in attempts:
            recorded = await self._recorder.record(
                self._context(answer, "shadow", shadow_tier), attempt, prompt_tokens
            )
            shadow_call_id, shadow_cost = recorded.call_id, recorded.cost.nano_usd
        if result is None or not result.text:
            log.warning("shadow: no %s answer for call %s: %s", shadow_tier, answer.call_id, error)
            return
        verdict, judge_call_id = await self._judge(answer, answer.answer, result.text)
        await self._store.record_comparison(
            Comparison(
                call_id=answer.call_id,
                thread_id=answer.thread_id,
                message_id=answer.message_id,
                question=answer.question,
                context=answer.context,
                answered_tier=tier,
                shadow_tier=shadow_tier,
                shadow_model=result.model_served or model,
                shadow_call_id=shadow_call_id,
                judge_call_id=judge_call_id,
                answered_score=verdict.first if verdict else None,
                shadow_score=verdict.second if verdict else None,
                answered_cost_nano_usd=answer.cost_nano_usd,
                shadow_cost_nano_usd=shadow_cost,
                router_version=answer.decision.router_version,
                router_score=answer.decision.score,
            )
        )

    async def _judge(
        self, answer: AnsweredQuestion, first: str, second: str
    ) -> tuple[PairVerdict | None, int | None]:
        """Both answers scored 1-10 in one judge request; their order on the page is decided by
        a hash of the question's id, so position bias cancels out over many comparisons."""
        swap = shadow_sampled(answer.message_id, 0.5)
        request = pair_request(self._config.judge_model, answer.question,
                               (second, first) if swap else (first, second))  # fmt: skip
        prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in request.messages)
        attempts, result, error = await complete(
            self._dispatcher, (self._config.judge_model,), request
        )
        judge_call_id = None
        for attempt in attempts:
            recorded = await self._recorder.record(
                self._context(answer, "judge", None), attempt, prompt_tokens
            )
            judge_call_id = recorded.call_id
        if result is None:
            log.warning("shadow: judge failed for call %s: %s", answer.call_id, error)
            return None, judge_call_id
        verdict = parse_pair(result.text)
        if verdict is None:
            log.warning("shadow: no scores in the judge's reply for call %s", answer.call_id)
            return None, judge_call_id
        return (verdict.swapped() if swap else verdict), judge_call_id
