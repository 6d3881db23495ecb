"""Shadow comparisons: a sample of answered questions is also answered by another tier, in the
background, and a judge scores both answers. Each comparison is a labelled example of the
deployment's own traffic: the router learns from these.

The user's reply is never delayed or changed: the comparison starts after the answer was
delivered, in its own task. Shadow and judge calls are real spend, recorded on the ledger with
their own purpose (`shadow`, `judge`), never counted in an experiment variant's cost. Shadowing
pauses while any budget that applies to the question is past its first alert threshold.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.conversation.answer import AnsweredQuestion
from bot.learning.verdict import PairVerdict, pair_request, parse_pair
from bot.llm.calls import Calls
from bot.llm.types import Asker, ChatRequest
from bot.tasks import BackgroundTasks
from routing.tiers import Tier
from storage.learning import Comparison, LearningData

log = logging.getLogger(__name__)


class SpendGate(Protocol):
    """Says whether background spending (shadow comparisons) should pause for a question."""

    async def past_first_threshold(self, asker: Asker) -> bool: ...


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
        self, calls: Calls, store: LearningData, gate: SpendGate, config: ShadowConfig
    ) -> None:
        self._calls = calls
        self._store = store
        self._gate = gate
        self._config = config
        self._tasks = BackgroundTasks()

    def on_answer(self, answer: AnsweredQuestion) -> None:
        tier = answer.decision.tier
        if tier is not None and shadow_sampled(answer.message_id, self._config.sample_rate):
            self._tasks.start(self._compare(answer, tier), f"shadow-{answer.call_id}")

    async def drain(self) -> None:
        """Wait for every comparison in flight (tests, replay, shutdown)."""
        await self._tasks.drain()

    async def close(self) -> None:
        await self._tasks.cancel()

    async def _compare(self, answer: AnsweredQuestion, tier: Tier) -> None:
        try:
            if await self._gate.past_first_threshold(answer.asker):
                log.info("shadow: paused (a budget is past its first alert threshold)")
                return
            await self._shadow(answer, tier)
        except Exception:  # a background comparison must never take the bot down
            log.exception("shadow: comparing call %s failed", answer.call_id)

    async def _shadow(self, answer: AnsweredQuestion, tier: Tier) -> None:
        shadow_tier = other_tier(tier)
        model = self._config.tiers[shadow_tier][0]
        request = ChatRequest(model=model, messages=answer.messages,
                              max_tokens=self._config.max_output_tokens)  # fmt: skip
        shadow = await self._calls.complete(
            (model,), request, answer.overhead("shadow", shadow_tier)
        )
        result = shadow.result
        if result is None or not result.text:
            log.warning("shadow: no %s answer for call %s: %s", shadow_tier, answer.call_id,
                        shadow.error)  # fmt: skip
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
                shadow_call_id=shadow.call_id,
                judge_call_id=judge_call_id,
                answered_score=verdict.first if verdict else None,
                shadow_score=verdict.second if verdict else None,
                answered_cost_nano_usd=answer.cost_nano_usd,
                shadow_cost_nano_usd=shadow.cost_nano_usd,
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
        judged = await self._calls.complete(
            (self._config.judge_model,), request, answer.overhead("judge")
        )
        judge_call_id = judged.call_id
        if judged.result is None:
            log.warning("shadow: judge failed for call %s: %s", answer.call_id, judged.error)
            return None, judge_call_id
        verdict = parse_pair(judged.result.text)
        if verdict is None:
            log.warning("shadow: no scores in the judge's reply for call %s", answer.call_id)
            return None, judge_call_id
        return (verdict.swapped() if swap else verdict), judge_call_id
