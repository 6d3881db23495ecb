"""The neutral message and reply contract between platform adapters and the engine.

Adapters translate a platform event into an `Incoming` and implement `Reply` for their platform;
the engine never sees a Slack or Discord object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from bot.knowledge.citations import Citation
from bot.llm.types import Asker
from routing.tiers import Tier


@dataclass(frozen=True)
class Incoming:
    """One user message, whatever platform it came from."""

    platform: str  # slack | discord | console
    workspace: str  # Slack team id, Discord guild id, "local"
    channel: str
    thread: str  # the conversation key within the channel (Slack thread_ts, Discord thread id)
    user: str
    text: str
    event_id: str  # unique per platform delivery target: the dedupe key
    forced_tier: Tier | None = None  # from a platform command ("ask a stronger model", /ask tier)
    escalation: bool = False  # re-answer of the previous question one tier up
    escalated_from: int | None = None  # the call id of the answer it re-answers
    admin: bool = False  # the user is one of the platform's configured admins
    origin: str = ""  # where the adapter answers (its own format), to answer after a restart

    @property
    def asker(self) -> Asker:
        """Who asked, where: the value every later step (budgets, the ledger) carries."""
        return Asker(self.platform, self.workspace, self.channel, self.user, self.thread)


@dataclass(frozen=True)
class ReplyLimits:
    """What the platform allows: the engine and splitter respect these as data."""

    max_chars: int = 4000  # per message
    min_edit_interval_s: float = 1.0  # between streamed updates of one message


@dataclass(frozen=True)
class AnswerMeta:
    """What the user is shown under an answer, and what adapters need for feedback."""

    call_id: int
    model: str
    tier: str | None
    strategy: str
    cost_nano_usd: int | None
    cost_source: str
    latency_ms: int
    input_tokens: int | None = None
    output_tokens: int | None = None
    incomplete: bool = False
    thread_id: int = 0
    answer_id: int = 0
    score: float | None = None  # the router's difficulty score, when a tiered strategy decided
    router_version: int | None = None
    sources: tuple[Citation, ...] = ()  # the docs' pages given to the model, to cite

    @property
    def cost_usd(self) -> float | None:
        return None if self.cost_nano_usd is None else self.cost_nano_usd / 1e9

    def context_line(self) -> str:
        """`openai/gpt-4o-mini · budget · $0.000123 · 840 ms` (cost marked when estimated)."""
        if self.cost_nano_usd is None:
            cost = "cost unknown"
        else:
            cost = f"${self.cost_nano_usd / 1e9:.6f}"
            if self.cost_source == "estimated":
                cost += " (est.)"
        parts = [self.model, self.tier or self.strategy, cost, f"{self.latency_ms} ms"]
        if self.incomplete:
            parts.append("incomplete")
        return " · ".join(parts)


class Reply(Protocol):
    """A streaming reply on one platform. The engine calls start, append*, then finish or fail."""

    limits: ReplyLimits

    async def start(self) -> None:
        """Show that an answer is coming ("thinking..."/typing); a second call does nothing."""

    async def append(self, text: str) -> None:
        """More answer text arrived; the adapter decides when to show it (rate limits). The
        text `finish` is given replaces everything appended (e.g. a "taking longer than
        usual" line shown while the database was slow)."""

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        """The full answer (`text`) is done; return the platform ids of the posted messages."""
        ...

    async def fail(self, message: str) -> None:
        """The answer could not be produced; `message` is safe to show the user."""


@runtime_checkable
class Resumable(Protocol):
    """A reply that can say which platform messages it has shown so far (`checkpoint`, stored
    while the answer streams) and take over the ones a crashed process left half-written
    (`resume`), completing or replacing them rather than leaving them dangling."""

    @property
    def checkpoint(self) -> str: ...

    def resume(self, checkpoint: str) -> None: ...


@runtime_checkable
class HandsOff(Protocol):
    """A reply that can hand the thread to people: it posts `message` and pings the user
    group or role an admin configured (KB_HANDOFF_MENTION), the one ping Switchboard makes."""

    async def hand_off(self, message: str) -> list[str]: ...


@dataclass(frozen=True)
class Outcome:
    """What `Engine.handle` did with one incoming message."""

    status: Literal[
        "answered", "incomplete", "failed", "duplicate", "rejected", "blocked", "handed_off"
    ]
    meta: AnswerMeta | None = None
    message: str = ""
