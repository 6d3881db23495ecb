"""The engine end to end: dedupe, ordering, history, persistence, and one ledger row per try."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.conversation.answer import INCOMPLETE_NOTICE
from bot.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from routing.config import DEFAULT_ROUTING_FILE
from storage.records import ThreadRef
from storage.tables import calls_t, messages_t, utcnow
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import FakeProvider, RecordingReply, Scripted, incoming
from tests.rows import counts, rows

MODEL = "openai/gpt-4o"


async def test_answer_is_streamed_costed_and_recorded(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(Scripted(cost_usd=Decimal("0.000123")))
    app = await fixed_app(make_app, database)
    reply = RecordingReply(post_ids=("p1", "p2"))
    outcome = await app.engine.handle(incoming("What are your opening hours?", "e1"), reply)
    assert outcome.status == "answered" and outcome.meta is not None
    assert reply.final == "".join(reply.deltas) == Scripted().text
    meta = outcome.meta
    assert (meta.model, meta.strategy, meta.cost_source) == (MODEL, "fixed", "reported")
    assert meta.cost_nano_usd == 123_000
    assert meta.cost_nano_usd and meta.cost_nano_usd > 0
    assert meta.input_tokens and meta.output_tokens
    (call,) = await rows(app.stores.db, calls_t)
    assert (call.status, call.attempt, call.cost_nano_usd) == ("ok", 1, meta.cost_nano_usd)
    assert call.answer_id == meta.answer_id and call.id == meta.call_id
    assert call.ttft_ms is not None and call.latency_ms is not None
    assert call.created_at.tzinfo is not None
    # Reactions on either posted message find this call.
    assert await app.ops.feedback("slack", "p2", "U2", 1) == call.id
    roles = [(m.role, m.text) for m in await rows(app.stores.db, messages_t)]
    assert roles == [("user", "What are your opening hours?"), ("assistant", reply.final)]


async def test_duplicate_event_is_answered_and_charged_once(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, sqlite_db)
    first = await app.engine.handle(incoming("Hello?", "ev-1"), RecordingReply())
    again = RecordingReply()
    second = await app.engine.handle(incoming("Hello?", "ev-1"), again)
    assert (first.status, second.status) == ("answered", "duplicate")
    assert again.started_at is None and again.error is None, "a duplicate gets no reply at all"
    assert len(provider.requests) == 1
    assert await counts(app.stores.db) == (1, 2, 1)


async def test_concurrent_duplicates_are_answered_once(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, database)
    outcomes = await asyncio.gather(
        *(app.engine.handle(incoming("Is the API down?", "ev-9"), RecordingReply())
          for _ in range(5))
    )  # fmt: skip
    assert sorted(o.status for o in outcomes) == ["answered"] + ["duplicate"] * 4
    assert len(provider.requests) == 1
    assert await counts(app.stores.db) == (1, 2, 1)


async def test_duplicate_across_replicas_sharing_a_database(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    one, two = await fixed_app(make_app, database), await fixed_app(make_app, database)
    outcomes = await asyncio.gather(
        one.engine.handle(incoming("Where is my refund?", "ev-r"), RecordingReply()),
        two.engine.handle(incoming("Where is my refund?", "ev-r"), RecordingReply()),
    )
    assert sorted(o.status for o in outcomes) == ["answered", "duplicate"]
    assert len(provider.requests) == 1
    assert await counts(one.stores.db) == (1, 2, 1)


async def test_duplicate_after_restart_is_ignored(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    before = await fixed_app(make_app, database)
    assert (await before.engine.handle(incoming("Hi", "ev-2"), RecordingReply())).status == (
        "answered"
    )
    await before.close()
    # A new process: new locks, new HTTP client, same database.
    after = await fixed_app(make_app, database)
    outcome = await after.engine.handle(incoming("Hi", "ev-2"), RecordingReply())
    assert outcome.status == "duplicate"
    assert len(provider.requests) == 1
    assert await counts(after.stores.db) == (1, 2, 1)


async def test_same_event_id_on_another_workspace_is_not_a_duplicate(
    sqlite_db: Database, make_app: MakeApp
) -> None:
    app = await fixed_app(make_app, sqlite_db)
    a = await app.engine.handle(incoming("Hi", "ev-3", workspace="T1"), RecordingReply())
    b = await app.engine.handle(incoming("Hi", "ev-3", workspace="T2"), RecordingReply())
    assert (a.status, b.status) == ("answered", "answered")


async def test_thread_in_order_threads_concurrently(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    # Each answer takes ~60 ms (three 20 ms deltas) and repeats the question.
    app = await fixed_app(make_app, sqlite_db)
    replies: dict[str, RecordingReply] = {}
    tasks = []
    for n in range(3):
        for thread in ("A", "B"):
            name = f"{thread}{n}"
            replies[name] = RecordingReply(name)
            provider.enqueue(Scripted(echo=True, delay_s=0.02))
            tasks.append(app.engine.handle(incoming(f"q {name}", f"e-{name}", thread),
                                           replies[name]))  # fmt: skip
    outcomes = await asyncio.gather(*tasks)
    assert all(o.status == "answered" for o in outcomes)

    def span(name: str) -> tuple[float, float]:
        r = replies[name]
        assert r.started_at is not None and r.ended_at is not None
        return r.started_at, r.ended_at

    for thread in ("A", "B"):
        for n in range(2):
            assert span(f"{thread}{n}")[1] <= span(f"{thread}{n + 1}")[0], "overlap in a thread"
    a0, b0 = span("A0"), span("B0")
    assert a0[0] < b0[1] and b0[0] < a0[1], "two threads should be answered concurrently"
    # Each answer saw the earlier turns of its own thread only, in order.
    last = next(r for r in provider.requests if r.messages[-1].content == "q A2")
    texts = [m.content for m in last.messages[1:]]
    assert texts == ["q A0", "re: q A0", "q A1", "re: q A1", "q A2"]


async def _seed_long_thread(app: Any, n: int) -> None:
    """A thread with `n` stored messages, inserted in bulk (the engine would take minutes)."""
    ref = ThreadRef("slack", "T1", "C1", "long")
    turn = await app.stores.conversations.start_turn(ref, text="first", author="U1",
                                                     event_key="seed")  # fmt: skip
    now = utcnow()
    values = [{"thread_id": turn.thread_id, "role": ("assistant", "user")[i % 2],
               "text": f"message number {i} " + "x" * 80, "author": "U1", "created_at": now}
              for i in range(1, n)]  # fmt: skip
    async with app.stores.db.begin() as conn:
        await conn.execute(sa.insert(messages_t), values)


async def test_history_of_a_10000_message_thread_is_bounded(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, database, history_max_messages=40, history_token_budget=100_000)
    await _seed_long_thread(app, 10_000)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    # Every engine: SQLite answers run on a synchronous twin of app.stores.db (TransactionRunner).
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    outcome = await app.engine.handle(incoming("and now?", "e-long", "long"), RecordingReply())
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert outcome.status == "answered"
    sent = provider.requests[-1].messages
    assert len(sent) == 1 + 40 + 1  # system, the 40 newest turns, the question
    assert sent[-2].content.startswith("message number 9999 ")
    history_reads = [s for s in statements if "FROM messages" in s and "SELECT" in s]
    assert len(history_reads) == 1, history_reads
    assert "LIMIT" in history_reads[0].upper()


async def test_history_respects_the_token_budget(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    # Each seeded message is ~100 characters = 25 tokens + 4 overhead: 300 tokens hold 10.
    app = await fixed_app(make_app, sqlite_db, history_max_messages=40, history_token_budget=300)
    await _seed_long_thread(app, 200)
    await app.engine.handle(incoming("and now?", "e-long", "long"), RecordingReply())
    sent = provider.requests[-1].messages
    assert len(sent) == 1 + 10 + 1
    assert sent[-2].content.startswith("message number 199 ")


async def test_question_and_failed_attempt_are_kept_when_the_call_fails(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, database)
    provider.enqueue(Scripted(error=AuthenticationFailed(detail="HTTP 401: invalid key")))
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming("Can I export my data?", "e-auth"), reply)
    assert outcome.status == "failed"
    assert reply.error == AuthenticationFailed.user_message == outcome.message
    assert reply.final is None
    (question,) = await rows(app.stores.db, messages_t)
    assert (question.role, question.text) == ("user", "Can I export my data?")
    (call,) = await rows(app.stores.db, calls_t)
    assert (call.status, call.error_kind, call.message_id) == ("error", "auth", question.id)
    assert call.cost_nano_usd == 0 and call.answer_id is None
    assert "401" in (call.error or "")
    # The failed event is still deduplicated: a platform retry is not answered twice.
    again = await app.engine.handle(incoming("Can I export my data?", "e-auth"), RecordingReply())
    assert again.status == "duplicate"


def pool_file(tmp_path: Path, budget: tuple[str, ...]) -> Path:
    """A routing file whose budget tier asks `budget` in order."""
    path = tmp_path / "routing.toml"
    pool = ", ".join(f'"{m}"' for m in budget)
    text = DEFAULT_ROUTING_FILE.read_text(encoding="utf-8")
    path.write_text(
        "\n".join(
            f"budget = [{pool}]" if line.startswith("budget = [") else line
            for line in text.splitlines()
        )
    )
    return path


async def test_one_row_per_attempt_with_fallback(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider, tmp_path: Path
) -> None:
    a, b = "openai/gpt-4o-mini", "google/gemini-2.0-flash"
    app = await make_app(sqlite_db, routing_file=pool_file(tmp_path, (a, b)), llm_max_retries=2)
    provider.enqueue(Scripted(error=ProviderUnavailable(detail="HTTP 503"), model=a, repeat=3))
    outcome = await app.engine.handle(incoming("!budget Why was I charged twice?", "e-fb"),
                                      RecordingReply())  # fmt: skip
    assert outcome.status == "answered" and outcome.meta is not None
    calls = await rows(app.stores.db, calls_t)
    assert [(c.model_asked, c.status, c.attempt) for c in calls] == [
        (a, "error", 1), (a, "error", 2), (a, "error", 3), (b, "ok", 4)
    ]  # fmt: skip
    assert [c.cost_source for c in calls[:3]] == ["unbilled"] * 3
    assert outcome.meta.model == b and outcome.meta.call_id == calls[-1].id
    assert calls[-1].answer_id == outcome.meta.answer_id
    assert {c.message_id for c in calls} == {calls[0].message_id}


async def test_stream_broken_mid_answer_is_marked_incomplete_with_estimated_cost(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, sqlite_db)
    provider.enqueue(Scripted(chunks=6, break_after=3))
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming("How do I rotate keys?", "e-cut"), reply)
    assert outcome.status == "incomplete" and outcome.meta is not None
    assert outcome.meta.incomplete and "incomplete" in outcome.meta.context_line()
    assert reply.final is not None and reply.final.endswith(INCOMPLETE_NOTICE)
    assert reply.final.startswith("".join(reply.deltas))
    (call,) = await rows(app.stores.db, calls_t)
    assert (call.status, call.cost_source, call.error_kind) == ("incomplete", "estimated",
                                                                "stream_broken")  # fmt: skip
    assert call.cost_nano_usd and call.cost_nano_usd > 0
    assert call.input_tokens and call.output_tokens
    assert outcome.meta.cost_source == "estimated"
    assert len(provider.requests) == 1, "no second answer after text was shown"
    stored = [m.text for m in await rows(app.stores.db, messages_t) if m.role == "assistant"]
    assert stored == [reply.final]


async def test_plain_openai_endpoint_is_priced_from_usage(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(Scripted(usage=(120, 30)))  # usage reported, no cost: a plain OpenAI API
    app = await fixed_app(make_app, sqlite_db)
    outcome = await app.engine.handle(incoming("Hi there", "e-oa"), RecordingReply())
    assert outcome.meta is not None
    assert outcome.meta.cost_source == "priced"
    assert (outcome.meta.input_tokens, outcome.meta.output_tokens) == (120, 30)
    assert outcome.meta.cost_nano_usd == 120 * 2500 + 30 * 10_000  # gpt-4o list prices


async def test_slow_first_token_is_retried_by_the_engine(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, sqlite_db)
    provider.enqueue(Scripted(error=ProviderTimeout(detail="no first token in time")))
    outcome = await app.engine.handle(incoming("Hi", "e-slow"), RecordingReply())
    assert outcome.status == "answered"
    calls = await rows(app.stores.db, calls_t)
    assert [(c.status, c.error_kind) for c in calls] == [("error", "timeout"), ("ok", None)]


async def test_rate_limited_twice_then_answered(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, sqlite_db)
    limited = RateLimited(detail="HTTP 429", retry_after_s=0.01)
    provider.enqueue(Scripted(error=limited, repeat=2))
    outcome = await app.engine.handle(incoming("Hi", "e-429"), RecordingReply())
    assert outcome.status == "answered"
    calls = await rows(app.stores.db, calls_t)
    assert [c.error_kind for c in calls] == ["rate_limited", "rate_limited", None]


@pytest.mark.parametrize("model", ["acme/no-such-model"])
async def test_unknown_model_fails_with_an_admin_hint(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider, model: str
) -> None:
    provider.enqueue(Scripted(error=BadRequest(detail="HTTP 400: unknown model"), model=model))
    app = await fixed_app(make_app, sqlite_db, fixed_model=model)
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming("Hi", "e-bad"), reply)
    assert outcome.status == "failed" and reply.error == BadRequest.user_message
    (call,) = await rows(app.stores.db, calls_t)
    assert (call.model_asked, call.error_kind) == (model, "bad_request")


async def test_escalation_answers_one_tier_up_once(sqlite_db: Database, make_app: MakeApp) -> None:
    app = await fixed_app(make_app, sqlite_db)
    first = await app.engine.handle(incoming("Hi", "e-esc"), RecordingReply())
    assert first.meta is not None
    up = await app.engine.escalate(first.meta.call_id, "U1", RecordingReply())
    again = await app.engine.escalate(first.meta.call_id, "U1", RecordingReply())
    assert (up.status, again.status) == ("answered", "duplicate")
    calls = await rows(app.stores.db, calls_t)
    assert [c.escalation for c in calls] == [False, True]
