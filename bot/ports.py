"""The ports the core calls out through: adapters and the composition root plug in behind them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from routing.strategy import Strategy
from storage.records import StartedTurn

if TYPE_CHECKING:
    from bot.conversation.messages import Incoming
    from bot.notices import Notice


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
