"""The ports the core calls out through: adapters and the composition root plug in behind them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.llm.types import ChatMessage
from routing.strategy import Decision, Strategy
from routing.tiers import Tier
from storage.records import CallRecord, StartedTurn

if TYPE_CHECKING:
    from bot.conversation.messages import Incoming
    from bot.notices import Notice


@dataclass(frozen=True)
class GuardVerdict:
    ceiling_tier: Tier | None = None  # cap the routing tier (budget downgrade)
    block_message: str | None = None  # answer with this instead of calling an LLM


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Hold:
    """Spend held for one routed call until it is recorded (`release()` after the answer),
    or the reason it may not be made."""

    block_message: str | None = None
    release: Callable[[], None] = _nothing


class Guard(Protocol):
    """Decides, before a call, whether spending is allowed (budgets)."""

    async def check(self, incoming: Incoming) -> GuardVerdict: ...

    async def reserve(self, incoming: Incoming, model: str, prompt_tokens: int) -> Hold:
        """Once routed: hold the call's estimated cost, or refuse it (`block` budgets)."""
        ...


class CallObserver(Protocol):
    """Told about every stored call attempt: answers, judge and shadow calls (alerts, metrics)."""

    async def on_call(self, call_id: int, record: CallRecord) -> None: ...


@dataclass(frozen=True)
class AnsweredQuestion:
    """A complete answer, as stored: what the judge and shadow comparisons look at."""

    call_id: int
    thread_id: int
    message_id: int
    platform: str
    workspace: str
    channel: str
    user: str
    question: str
    context: tuple[str, ...]  # earlier user messages of the thread, oldest first
    messages: tuple[ChatMessage, ...]  # exactly what the model was sent
    answer: str
    decision: Decision
    cost_nano_usd: int | None


class AnswerObserver(Protocol):
    """Told about every complete answer after it reached the user (never delays the reply)."""

    def on_answer(self, answer: AnsweredQuestion) -> None: ...


class Notifier(Protocol):
    """Posts notices where the operators read them (a Slack channel, a Discord channel)."""

    async def notify(self, notice: Notice) -> None: ...


@dataclass(frozen=True)
class Assignment:
    strategy: Strategy
    experiment: str | None = None
    variant: str | None = None


class StrategyPicker(Protocol):
    """Chooses the strategy for a thread: an experiment's variant, or the default."""

    async def pick(self, incoming: Incoming, turn: StartedTurn) -> Assignment: ...
