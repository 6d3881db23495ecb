"""Ports the engine calls out to, so budgets, experiments and metrics plug in from outside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.conversation.messages import Incoming
from routing.health import ModelHealth
from routing.strategies import EDEN_ROUTER
from routing.strategy import Strategy
from routing.tiers import Tier
from storage.conversations import CallRecord


@dataclass(frozen=True)
class GuardVerdict:
    ceiling_tier: Tier | None = None  # cap the routing tier (budget downgrade)
    block_message: str | None = None  # answer with this instead of calling an LLM


class Guard(Protocol):
    """Decides, before a call, whether spending is allowed (budgets)."""

    async def check(self, incoming: Incoming) -> GuardVerdict: ...


class CallObserver(Protocol):
    """Told about every stored call attempt (alerts, metrics)."""

    async def on_call(self, call_id: int, record: CallRecord) -> None: ...


@dataclass(frozen=True)
class Notice:
    """A message for the people who run the bot (digest, budget alert), in each platform's form.

    Renderers fill the platform forms as plain JSON-able dicts; adapters only post them.
    """

    text: str  # plain-text fallback, also what the terminal prints
    slack_blocks: tuple[dict[str, Any], ...] = ()
    discord_embed: dict[str, Any] | None = None
    chart_png: bytes | None = None
    chart_name: str = "spend.png"


class Notifier(Protocol):
    """Posts notices to where the operators read them (a Slack channel, a Discord channel)."""

    async def notify(self, notice: Notice) -> None: ...


@dataclass(frozen=True)
class Assignment:
    strategy: Strategy
    experiment: str | None = None
    variant: str | None = None


class StrategyPicker(Protocol):
    """Chooses the strategy for a thread: experiment variant, channel override, or the default."""

    async def pick(
        self, incoming: Incoming, thread_id: int, channel_strategy: str | None
    ) -> Assignment: ...


@dataclass(frozen=True)
class HealthObserver:
    """Feeds every answer attempt's outcome into the model health used by tiered routing."""

    health: ModelHealth

    async def on_call(self, call_id: int, record: CallRecord) -> None:
        if record.purpose == "answer" and record.model_asked != EDEN_ROUTER:
            self.health.record(record.model_asked, ok=record.status == "ok")


class AllowAll:
    async def check(self, incoming: Incoming) -> GuardVerdict:
        return GuardVerdict()
