"""An optional LLM judge: scores a sample of answers 1-10 in the background.

It is an `AnswerObserver`: told about each finished answer (with its text), it picks a
deterministic sample (blake2b of the call id, so every replica picks the same calls) and, in a
background task that never delays the reply, asks the judge model through the metered call
path, like the answers. The judge's call gets its own ledger row with `purpose = 'judge'`: its
cost is real spend, but it is never counted in an experiment variant's cost.
"""

from __future__ import annotations

import hashlib
import logging
import re

from bot.conversation.answer import AnsweredQuestion
from bot.llm.calls import Calls
from bot.llm.types import ChatMessage, ChatRequest
from bot.tasks import BackgroundTasks
from storage.experiments import ExperimentData

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
        self, calls: Calls, store: ExperimentData, model: str, sample_rate: float
    ) -> None:
        self._calls = calls
        self._store = store
        self.model = model
        self.sample_rate = sample_rate
        self._tasks = BackgroundTasks()

    def on_answer(self, answer: AnsweredQuestion) -> None:
        if sampled(answer.call_id, self.sample_rate):
            self._tasks.start(self._judge(answer), f"judge-{answer.call_id}")

    async def drain(self) -> None:
        """Wait for every judgement in flight (tests, shutdown)."""
        await self._tasks.drain()

    async def close(self) -> None:
        await self._tasks.cancel()

    async def _judge(self, answer: AnsweredQuestion) -> None:
        try:
            await self._score(answer)
        except Exception:  # a background judgement must never take the bot down
            log.exception("judge: scoring call %s failed", answer.call_id)

    async def _score(self, answer: AnsweredQuestion) -> None:
        messages = (
            ChatMessage("system", JUDGE_PROMPT),
            ChatMessage("user", f"QUESTION:\n{answer.question}\n\nANSWER:\n{answer.answer}"),
        )
        request = ChatRequest(model=self.model, messages=messages, max_tokens=200)
        done = await self._calls.complete((self.model,), request, answer.overhead("judge"))
        if done.result is None or done.call_id is None:
            log.warning("judge: call %s not judged: %s", answer.call_id, done.error)
            return
        score = parse_score(done.result.text)
        if score is None:
            log.warning("judge: no 1-10 score in the judge's reply to call %s", answer.call_id)
        await self._store.record_judgement(answer.call_id, done.call_id, score)

