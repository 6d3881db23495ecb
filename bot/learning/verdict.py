"""The judge's protocol for a shadow comparison: one request scores two answers to one question.

Request (any OpenAI-compatible chat model): a system message, PAIR_PROMPT, and one user message

    QUESTION:
    <the user's question>

    ANSWER A:
    <first answer>

    ANSWER B:
    <second answer>

Reply parsed: a line `A: N` and a line `B: M`, each a number from 1 to 10 (decimals are
rounded; `**A:** 8`, `A = 8`, `A: 8/10` also read). Anything else means "no verdict" and the
comparison is stored without scores. Anyone can stand in for the judge by answering so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.llm.types import ChatMessage, ChatRequest

PAIR_PROMPT = (
    "You grade two answers given by a customer-support assistant to the same QUESTION. Rate "
    "each answer on its own, from 1 (useless or wrong) to 10 (perfect): correct, complete, "
    "clear and safe. Reply with exactly two lines, 'A: N' and 'B: M', then one short sentence "
    "why."
)
_SCORE = r"\**\s*[:=]\s*\**\s*(\d{1,2}(?:\.\d+)?)"
_A = re.compile(r"(?:^|\n|\s)\**A\**" + _SCORE, re.I)
_B = re.compile(r"(?:^|\n|\s)\**B\**" + _SCORE, re.I)


@dataclass(frozen=True)
class PairVerdict:
    first: int  # the score of answer A as sent
    second: int

    def swapped(self) -> PairVerdict:
        return PairVerdict(self.second, self.first)


def pair_request(model: str, question: str, answers: tuple[str, str]) -> ChatRequest:
    text = f"QUESTION:\n{question}\n\nANSWER A:\n{answers[0]}\n\nANSWER B:\n{answers[1]}"
    messages = (ChatMessage("system", PAIR_PROMPT), ChatMessage("user", text))
    return ChatRequest(model=model, messages=messages, max_tokens=200)


def _score(pattern: re.Pattern[str], text: str) -> int | None:
    for match in pattern.finditer(text):
        value = float(match.group(1))
        if 1 <= value <= 10:
            return round(value)
    return None


def parse_pair(text: str) -> PairVerdict | None:
    first, second = _score(_A, text), _score(_B, text)
    if first is None or second is None:
        return None
    return PairVerdict(first, second)
