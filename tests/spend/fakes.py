"""Test doubles that speak our real ports."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.ports import Notice
from routing.strategy import Decision, RouteRequest, Strategy


@dataclass
class RecordingNotifier:
    notices: list[Notice] = field(default_factory=list)

    async def notify(self, notice: Notice) -> None:
        self.notices.append(notice)

    def titled(self, start: str) -> list[Notice]:
        return [n for n in self.notices if n.text.startswith(start)]


@dataclass
class RecordingStrategy:
    """Wraps a real strategy and keeps every request it was asked to route."""

    inner: Strategy
    requests: list[RouteRequest] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    def decide(self, request: RouteRequest) -> Decision:
        self.requests.append(request)
        return self.inner.decide(request)
