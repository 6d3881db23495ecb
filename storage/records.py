"""Plain values the storage layer takes and returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from storage.knowledge_records import Cited


def digest(*parts: str) -> str:
    """A fixed-length key for ids of any length (a 10 KB thread id still fits an index)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True)
class ThreadRef:
    platform: str
    workspace: str
    channel: str
    external_id: str

    @property
    def key(self) -> str:
        return digest(self.platform, self.workspace, self.channel, self.external_id)


@dataclass(frozen=True)
class Turn:
    role: str
    text: str


@dataclass(frozen=True)
class StartedTurn:
    thread_id: int
    message_id: int
    experiment: str | None
    variant: str | None
    history: tuple[Turn, ...] = ()  # the newest earlier messages, oldest first
    channel_tier: str | None = None  # the tier an admin pinned for the channel
    thread_created_at: datetime | None = None
    owner: str = ""  # the claim holding this question's lease
    created_at: datetime | None = None  # when the question arrived
    resumed: bool = False  # an unfinished question taken over (after a crash)
    checkpoint: str = ""  # the half-written reply a crashed answer left (adapter's ids)
    pending: str | None = None  # JSON of the call that was in flight when it crashed
    # The knowledge base's documents in the channel's collections, read with the question
    # (None: not read; the search reads them).
    documents: int | None = None


@dataclass(frozen=True)
class CallRecord:
    thread_id: int | None  # None: a call that answers no question (a check, an embedding)
    message_id: int | None
    platform: str
    workspace: str
    channel: str
    user: str
    strategy: str
    model_asked: str
    cost_source: str
    status: str
    attempt: int
    purpose: str = "answer"
    provider: str | None = None  # the routing file's name for where the request went
    tier: str | None = None
    score: float | None = None
    reasons: str = ""
    model_served: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_nano_usd: int | None = None
    baseline_cost_nano_usd: int | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    decision_us: int | None = None
    error_kind: str | None = None
    error: str | None = None
    escalation: bool = False
    escalated_from: int | None = None
    experiment: str | None = None
    variant: str | None = None
    router_version: int | None = None
    created_at: datetime | None = None
    key: str | None = None  # unique per attempt: a retried write lands once


@dataclass(frozen=True)
class CallView:
    """The parts of a stored call that adapters and escalation need."""

    id: int
    thread_id: int
    message_id: int
    tier: str | None
    platform: str
    workspace: str
    channel: str
    thread_external_id: str


@dataclass(frozen=True)
class Question:
    """A user's message to store, and how much of its thread's history to read back."""

    ref: ThreadRef
    text: str
    author: str
    event_key: str
    history_limit: int = 0
    owner: str = ""  # a fresh claim id: who holds the lease
    lease_until: datetime | None = None
    origin: str = ""  # the adapter's reply address, for answering after a restart
    # The knowledge base collections the channel draws on: their documents are counted in the
    # same transaction (None: not counted).
    collections: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Unfinished:
    """A question that was never answered, as recovery finds it."""

    message_id: int
    platform: str
    workspace: str
    channel: str
    thread: str
    author: str
    text: str
    origin: str
    created_at: datetime


@dataclass(frozen=True)
class StoredAnswer:
    """An answer stored before its reply was finished (the crash came after the LLM call)."""

    call_id: int
    call_key: str
    text: str
    model: str
    tier: str | None
    strategy: str
    cost_nano_usd: int | None
    cost_source: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int | None
    answer_id: int
    sources: tuple[Cited, ...] = ()  # the pages its question was given (the sources line)
