"""SQLModel tables: the conversation record and the call ledger.

Money is integer nano-dollars (1e-9 USD) in BIGINT columns: exact on SQLite and PostgreSQL.
A cost of NULL means "unknown" (cost_source = 'unpriced'), never zero.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timestamps are stored in UTC and come back UTC-aware on both databases."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, **kwargs)


def _nano() -> Any:
    return Field(default=None, sa_type=sa.BigInteger, nullable=True)


class Thread(SQLModel, table=True):
    __tablename__ = "threads"

    id: int | None = Field(default=None, primary_key=True)
    # sha256 of (platform, workspace, channel, external_id): platform ids can be long.
    key: str = Field(max_length=64, unique=True)
    platform: str = Field(max_length=32)
    workspace: str = Field(max_length=255)
    channel: str = Field(max_length=255)
    external_id: str = Field(sa_type=sa.Text)
    created_at: datetime = _ts()
    experiment: str | None = Field(default=None, max_length=128)
    variant: str | None = Field(default=None, max_length=128)
    solved_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    solved_by: str | None = Field(default=None, max_length=255)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_thread_recent", "thread_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="threads.id")
    role: str = Field(max_length=16)  # user | assistant
    text: str = Field(sa_type=sa.Text)
    author: str = Field(default="", max_length=255)
    # sha256 of (platform, workspace, event id): the dedupe key, written before any LLM call.
    event_key: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = _ts()
    # A question's answering state, kept so a crash loses nothing (NULL for answers):
    # received -> answering -> answered | failed. A replica holds an unfinished question only
    # while its lease runs (renewed while answering); an expired one may be claimed by another.
    state: str | None = Field(default=None, max_length=16, index=True)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    owner: str | None = Field(default=None, max_length=32)  # the claim that holds the lease
    origin: str | None = Field(default=None, sa_type=sa.Text)  # adapter's reply address
    checkpoint: str | None = Field(default=None, sa_type=sa.Text)  # half-written message ids
    pending: str | None = Field(default=None, sa_type=sa.Text)  # JSON: the call in flight


class Call(SQLModel, table=True):
    """One row per LLM call attempt (retries and fallbacks each get their own row)."""

    __tablename__ = "calls"
    __table_args__ = (
        sa.Index("ix_calls_created_at", "created_at"),
        sa.Index("ix_calls_thread", "thread_id"),
        sa.Index("ix_calls_channel_created", "platform", "workspace", "channel", "created_at"),
        # A question's calls (its first answer, from its escalation), and the few escalations
        # of a period without reading every call of it (migration 0013).
        sa.Index("ix_calls_message", "message_id"),
        # Partial on PostgreSQL too (`WHERE escalation`, migration 0013), but not declared
        # here: a `postgresql_where` makes SQLAlchemy import its PostgreSQL dialect (2.2 MB of
        # code) in every process, a bot on SQLite included. Alembic compares no predicates.
        sa.Index("ix_calls_escalations", "created_at", sqlite_where=sa.text("escalation = 1")),
    )

    id: int | None = Field(default=None, primary_key=True)
    # A unique key per attempt, so a write retried after a database outage lands once.
    key: str | None = Field(default=None, max_length=32, unique=True)
    # The question being answered; NULL for a call that answers none (a credential check, an
    # embedding request: migration 0009).
    thread_id: int | None = Field(default=None, foreign_key="threads.id")
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    answer_id: int | None = Field(default=None, foreign_key="messages.id")
    platform: str = Field(max_length=32)
    workspace: str = Field(max_length=255)
    channel: str = Field(max_length=255)
    user: str = Field(default="", max_length=255)
    purpose: str = Field(default="answer", max_length=16)  # answer|judge|shadow|check|embedding
    provider: str | None = Field(default=None, max_length=64)  # routing file's name (0009)
    strategy: str = Field(max_length=64)
    tier: str | None = Field(default=None, max_length=16)
    score: float | None = None
    reasons: str = Field(default="", sa_type=sa.Text)
    model_asked: str = Field(max_length=255)
    model_served: str | None = Field(default=None, max_length=255)
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Parts of input_tokens / output_tokens priced at their own rate (migration 0008).
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_nano_usd: int | None = _nano()
    cost_source: str = Field(max_length=16)  # reported | priced | estimated | unpriced
    baseline_cost_nano_usd: int | None = _nano()
    latency_ms: int | None = None
    ttft_ms: int | None = None
    decision_us: int | None = None
    status: str = Field(max_length=16)  # ok | error | incomplete
    error_kind: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, sa_type=sa.Text)
    attempt: int = 1
    escalation: bool = False
    escalated_from: int | None = Field(default=None, foreign_key="calls.id")
    experiment: str | None = Field(default=None, max_length=128)
    variant: str | None = Field(default=None, max_length=128)
    router_version: int | None = None  # the tuned router that scored it (NULL: the shipped one)
    created_at: datetime = _ts()


class Post(SQLModel, table=True):
    """A platform message that carries (part of) an answer, so reactions find their call."""

    __tablename__ = "posts"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    external_id: str = Field(max_length=255)
    call_id: int = Field(foreign_key="calls.id")
    created_at: datetime = _ts()


class Feedback(SQLModel, table=True):
    """A user's thumbs up (+1) or down (-1) on one answer; changing your mind updates the row."""

    __tablename__ = "feedback"
    __table_args__ = (sa.UniqueConstraint("call_id", "user"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id")
    user: str = Field(max_length=255)
    value: int
    source: str = Field(default="reaction", max_length=16)
    updated_at: datetime = _ts()


class ChannelSetting(SQLModel, table=True):
    """The tier an admin pinned for a channel (NULL: the router chooses)."""

    __tablename__ = "channel_settings"
    __table_args__ = (sa.UniqueConstraint("platform", "workspace", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    workspace: str = Field(max_length=255)
    channel: str = Field(max_length=255)
    tier: str | None = Field(default=None, max_length=16)
    updated_by: str = Field(default="", max_length=255)
    updated_at: datetime = _ts()


class Claim(SQLModel, table=True):
    """Exactly-once work across replicas: insert (job, scope, period); the inserter proceeds."""

    __tablename__ = "claims"
    __table_args__ = (sa.UniqueConstraint("job", "scope", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    scope: str = Field(max_length=255)
    period: str = Field(max_length=64)
    created_at: datetime = _ts()


class Judgement(SQLModel, table=True):
    """The LLM judge's 1-10 score of one sampled answer (NULL: the judge's reply had no score)."""

    __tablename__ = "judgements"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", unique=True)  # the answer judged
    judge_call_id: int | None = Field(default=None, foreign_key="calls.id")  # the judge's call
    score: int | None = None
    created_at: datetime = _ts()


class ShadowComparison(SQLModel, table=True):
    """A sampled answer, the same question answered by another tier in the background, and the
    judge's 1-10 score of both: a labelled example of the deployment's own traffic."""

    __tablename__ = "shadow_comparisons"
    __table_args__ = (sa.Index("ix_shadow_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", unique=True)  # the answer the user got
    thread_id: int = Field(foreign_key="threads.id")
    message_id: int = Field(foreign_key="messages.id")  # the question
    question: str = Field(sa_type=sa.Text)
    context: str = Field(default="[]", sa_type=sa.Text)  # JSON list of earlier user messages
    answered_tier: str = Field(max_length=16)
    shadow_tier: str = Field(max_length=16)
    shadow_model: str = Field(max_length=255)
    shadow_call_id: int | None = Field(default=None, foreign_key="calls.id")
    judge_call_id: int | None = Field(default=None, foreign_key="calls.id")
    answered_score: int | None = None  # judge 1-10 (NULL: no score could be read)
    shadow_score: int | None = None
    answered_cost_nano_usd: int | None = _nano()
    shadow_cost_nano_usd: int | None = _nano()
    router_version: int | None = None
    router_score: float | None = None
    created_at: datetime = _ts()


class RouterVersion(SQLModel, table=True):
    """A router tuned on the deployment's labels: its model, what it saw, how it measured, and
    whether it was adopted. The active version is the one activated last (NULL: never)."""

    __tablename__ = "router_versions"

    id: int | None = Field(default=None, primary_key=True)
    base: str = Field(default="", max_length=64)  # fingerprint of the analyzer it corrects
    model: str | None = Field(default=None, sa_type=sa.Text)  # JSON; NULL when nothing was fitted
    metrics: str = Field(default="{}", sa_type=sa.Text)  # JSON: before/after with intervals
    data: str = Field(default="{}", sa_type=sa.Text)  # JSON: labels used and held back, by kind
    adopted: bool = False
    reason: str = Field(default="", sa_type=sa.Text)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = _ts()


class _Totals(SQLModel):
    """The additive measures of a group of call rows (see storage.rollups.measures)."""

    nano_usd: int = Field(default=0, sa_type=sa.BigInteger)
    calls: int = 0
    errors: int = 0
    input_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    output_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    estimated_calls: int = 0
    unpriced_calls: int = 0
    baseline_nano_usd: int = Field(default=0, sa_type=sa.BigInteger)
    compared_nano_usd: int = Field(default=0, sa_type=sa.BigInteger)


class ModelHour(_Totals, table=True):
    """Per-hour (UTC) totals of `calls` by model, tier and strategy (and platform/workspace).

    Kept exact by triggers on `calls` (migration 0005): written in the statement that writes
    the call row, so the totals always equal the raw rows, whoever writes them. Each totals
    table groups few columns, so an hour holds few rows however busy it was.
    """

    __tablename__ = "model_hours"

    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    platform: str = Field(max_length=32, primary_key=True)
    workspace: str = Field(max_length=255, primary_key=True)
    model: str = Field(max_length=255, primary_key=True)  # model served, else asked
    tier: str = Field(max_length=16, primary_key=True)  # '' when none
    strategy: str = Field(max_length=64, primary_key=True)


class ChannelHour(_Totals, table=True):
    """Per-hour (UTC) totals of `calls` by channel, kept like `model_hours`."""

    __tablename__ = "channel_hours"

    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    platform: str = Field(max_length=32, primary_key=True)
    workspace: str = Field(max_length=255, primary_key=True)
    channel: str = Field(max_length=255, primary_key=True)


class UserHour(_Totals, table=True):
    """Per-hour (UTC) totals of `calls` by user, kept like `model_hours`."""

    __tablename__ = "user_hours"

    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    platform: str = Field(max_length=32, primary_key=True)
    workspace: str = Field(max_length=255, primary_key=True)
    user: str = Field(max_length=255, primary_key=True)


class UserDay(_Totals, table=True):
    """Per-day (UTC) totals of `calls` by user, kept like `model_hours` (migration 0013): the
    whole days of a long window are read here, a row per user and day instead of 24."""

    __tablename__ = "user_days"

    day: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    platform: str = Field(max_length=32, primary_key=True)
    workspace: str = Field(max_length=255, primary_key=True)
    user: str = Field(max_length=255, primary_key=True)


class QualityHour(SQLModel, table=True):
    """Per-hour (UTC) counts of what calls were worth, by tier and purpose: first answers
    (successful, not an escalation), the judge's scores of them and users' votes on them, in
    the hour of the call. Kept exact by triggers on `calls`, `judgements` and `feedback`
    (storage/quality_ddl.py, migration 0013)."""

    __tablename__ = "quality_hours"

    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    tier: str = Field(max_length=16, primary_key=True)  # '' when none
    purpose: str = Field(max_length=16, primary_key=True)
    calls: int = 0
    first_answers: int = 0
    judged: int = 0
    judge_sum: int = Field(default=0, sa_type=sa.BigInteger)
    judge_sum_squares: int = Field(default=0, sa_type=sa.BigInteger)
    thumbs_up: int = 0
    thumbs_down: int = 0


class BudgetAlert(SQLModel, table=True):
    """The highest threshold announced for one budget in one period (alerts only go up)."""

    __tablename__ = "budget_alerts"

    budget: str = Field(max_length=255, primary_key=True)
    period: str = Field(max_length=16, primary_key=True)
    threshold: int = 0
    updated_at: datetime = _ts()


# The tables as SQLAlchemy Core objects, for the queries that aggregate or upsert
# (SQLModel's class attribute is untyped, hence one ignore here rather than one per module).
threads_t: sa.Table = Thread.__table__  # type: ignore[attr-defined]
messages_t: sa.Table = Message.__table__  # type: ignore[attr-defined]
calls_t: sa.Table = Call.__table__  # type: ignore[attr-defined]
posts_t: sa.Table = Post.__table__  # type: ignore[attr-defined]
feedback_t: sa.Table = Feedback.__table__  # type: ignore[attr-defined]
channel_settings_t: sa.Table = ChannelSetting.__table__  # type: ignore[attr-defined]
claims_t: sa.Table = Claim.__table__  # type: ignore[attr-defined]
judgements_t: sa.Table = Judgement.__table__  # type: ignore[attr-defined]
shadow_comparisons_t: sa.Table = ShadowComparison.__table__  # type: ignore[attr-defined]
router_versions_t: sa.Table = RouterVersion.__table__  # type: ignore[attr-defined]
model_hours_t: sa.Table = ModelHour.__table__  # type: ignore[attr-defined]
channel_hours_t: sa.Table = ChannelHour.__table__  # type: ignore[attr-defined]
user_hours_t: sa.Table = UserHour.__table__  # type: ignore[attr-defined]
user_days_t: sa.Table = UserDay.__table__  # type: ignore[attr-defined]
quality_hours_t: sa.Table = QualityHour.__table__  # type: ignore[attr-defined]
budget_alerts_t: sa.Table = BudgetAlert.__table__  # type: ignore[attr-defined]
