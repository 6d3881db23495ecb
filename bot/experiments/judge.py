"""An optional LLM judge: scores a sample of answers 1-10 in the background.

It is a `CallObserver`: told about each stored answer attempt, it picks a deterministic sample
(blake2b of the call id, so every replica picks the same calls) and, in a background task that
never delays the reply, asks the judge model through the same dispatcher as the answers. The
judge's call gets its own ledger row with `purpose = 'judge'`: its cost is real spend, but it
is never counted in an experiment variant's cost.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import ProviderError
from bot.llm.dispatch import Attempt, Dispatcher
from bot.llm.pricing import Pricer, estimate_tokens, price_attempt
from bot.llm.types import ChatMessage, ChatRequest
from storage.conversations import CallRecord
from storage.experiments import JudgeInput, judge_input, record_judgement
from storage.tables import utcnow

log = logging.getLogger(__name__)

JUDGE_PROMPT = (
    "You grade answers given by a customer-support assistant. Rate how well the ANSWER "
    "answers the QUESTION: correct, complete, clear and safe. Reply with 'Score: N', where N "
    "is a whole number from 1 (useless or wrong) to 10 (perfect), then one short sentence why."
)
# Tried in order; the first that finds a number from 1 to 10 wins.
_PATTERNS = (
    re.compile(r"score\s*(?:is|of|[:=])?\s*\**\s*(\d{1,2}(?:\.\d+)?)\s*(?:/|out of)?", re.I),
    re.compile(r"(\d{1,2}(?:\.\d+)?)\s*(?:/|out of)\s*10\b", re.I),
    re.compile(r"^\D{0,20}?\b(\d{1,2})\b", re.S),
)
# The answer row is written just after its call row; give it this long to appear.
ANSWER_WAITS_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)

RecordCall = Callable[[CallRecord], Awaitable[int]]


def sampled(call_id: int, rate: float) -> bool:
    digest = hashlib.blake2b(f"judge:{call_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10_000 < round(rate * 10_000)


def parse_score(text: str) -> int | None:
    """The 1-10 score in a judge's reply ("Score: 8", "8/10", "**Score:** 7.5"), or None."""
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = float(match.group(1))
            if 1 <= value <= 10:
                return round(value)
    return None


class Judge:
    def __init__(
        self,
        db: AsyncEngine,
        dispatcher: Dispatcher,
        pricer: Pricer,
        record_call: RecordCall,
        model: str,
        sample_rate: float,
    ) -> None:
        self._db = db
        self._dispatcher = dispatcher
        self._pricer = pricer
        self._record_call = record_call
        self.model = model
        self.sample_rate = sample_rate
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_call(self, call_id: int, record: CallRecord) -> None:
        if record.purpose != "answer" or record.status != "ok":
            return
        if not sampled(call_id, self.sample_rate):
            return
        task = asyncio.create_task(self._judge(call_id), name=f"judge-{call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every judgement in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _judge(self, call_id: int) -> None:
        try:
            found = await self._wait_for_answer(call_id)
            if found is None:
                log.warning("judge: call %s has no stored answer; not judged", call_id)
                return
            await self._score(call_id, found)
        except Exception:  # a background judgement must never take the bot down
            log.exception("judge: scoring call %s failed", call_id)

    async def _wait_for_answer(self, call_id: int) -> JudgeInput | None:
        for wait in ANSWER_WAITS_S:
            found = await judge_input(self._db, call_id)
            if found is not None:
                return found
            await asyncio.sleep(wait)
        return await judge_input(self._db, call_id)

    async def _score(self, call_id: int, found: JudgeInput) -> None:
        messages = (
            ChatMessage("system", JUDGE_PROMPT),
            ChatMessage("user", f"QUESTION:\n{found.question}\n\nANSWER:\n{found.answer}"),
        )
        judge_call_ids: list[int] = []

        def request(model: str) -> ChatRequest:
            return ChatRequest(model=model, messages=messages, max_tokens=200)

        async def ignore(_text: str) -> None:
            return None

        async def on_attempt(attempt: Attempt) -> None:
            judge_call_ids.append(await self._record_call(self._row(found, attempt)))

        try:
            _attempt, result = await self._dispatcher.run(
                (self.model,), request, ignore, on_attempt
            )
        except ProviderError as error:
            log.warning("judge: call %s not judged: %s", call_id, error)
            return
        score = parse_score(result.text)
        if score is None:
            log.warning("judge: no 1-10 score in the judge's reply to call %s", call_id)
        await record_judgement(self._db, call_id, judge_call_ids[-1], score)

    def _row(self, found: JudgeInput, attempt: Attempt) -> CallRecord:
        result, error = attempt.result, attempt.error
        prompt_tokens = estimate_tokens(found.question) + estimate_tokens(found.answer)
        cost = price_attempt(self._pricer, attempt.model_asked, result, prompt_tokens)
        return CallRecord(
            thread_id=found.thread_id,
            message_id=found.message_id,
            platform=found.platform,
            workspace=found.workspace,
            channel=found.channel,
            user="",
            strategy="judge",
            model_asked=attempt.model_asked,
            model_served=result.model_served if result else None,
            input_tokens=cost.usage.input_tokens if cost.usage else None,
            output_tokens=cost.usage.output_tokens if cost.usage else None,
            cost_nano_usd=cost.nano_usd,
            cost_source=cost.source.value,
            latency_ms=attempt.latency_ms,
            ttft_ms=result.ttft_ms if result else None,
            status="ok" if error is None else "error",
            error_kind=error.kind if error else None,
            error=error.detail if error else None,
            attempt=attempt.number,
            purpose="judge",
            created_at=utcnow(),
        )
