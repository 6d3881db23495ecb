"""The conversation record on SQLite and PostgreSQL: time zones, money, keys, migrations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from storage.conversations import Conversations
from storage.database import upgrade
from storage.ledger import Ledger
from storage.records import CallRecord, ThreadRef
from storage.tables import calls_t, messages_t, threads_t, utcnow
from tests.conftest import Database

REF = ThreadRef("slack", "T1", "C1", "1700000000.000100")


def record(thread_id: int, message_id: int, **kw: object) -> CallRecord:
    values: dict[str, object] = {
        "thread_id": thread_id,
        "message_id": message_id,
        "platform": "slack",
        "workspace": "T1",
        "channel": "C1",
        "user": "U1",
        "strategy": "fixed",
        "model_asked": "openai/gpt-4o",
        "cost_source": "reported",
        "status": "ok",
        "attempt": 1,
    }
    values.update(kw)
    return CallRecord(**values)  # type: ignore[arg-type]  # fmt: skip


async def test_timestamps_come_back_utc_aware(database: Database) -> None:
    db = database.engine()
    try:
        kolkata = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5.5)))
        async with db.begin() as conn:
            await conn.execute(sa.insert(threads_t).values(
                key="k" * 64, platform="slack", workspace="T", channel="C", external_id="x",
                created_at=kolkata))  # fmt: skip
        async with db.connect() as conn:
            stored = await conn.scalar(sa.select(threads_t.c.created_at))
        assert stored == kolkata
        assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
        assert stored.hour == 20 and stored.day == 28  # the same instant, in UTC
    finally:
        await db.dispose()


async def test_naive_datetimes_are_rejected(database: Database) -> None:
    db = database.engine()
    try:
        with pytest.raises(StatementError, match="naive datetime"):
            async with db.begin() as conn:
                await conn.execute(sa.insert(threads_t).values(
                    key="n" * 64, platform="slack", workspace="T", channel="C", external_id="x",
                    created_at=datetime(2026, 1, 1, 12, 0)))  # fmt: skip
        async with db.connect() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(threads_t)) == 0
    finally:
        await db.dispose()


async def test_nano_dollars_beyond_32_bits_are_exact(database: Database) -> None:
    db = database.engine()
    conversations = Conversations(db)
    try:
        turn = await conversations.start_turn(REF, text="q", author="U1", event_key="e1")
        assert turn is not None
        big = 2**53 + 1  # past 2^31, and not representable as a float either
        when = utcnow()
        await conversations.record_call(record(turn.thread_id, turn.message_id,
                                               cost_nano_usd=big, created_at=when))  # fmt: skip
        await conversations.record_call(record(turn.thread_id, turn.message_id, attempt=2,
                                               cost_nano_usd=3, created_at=when))  # fmt: skip
        await conversations.record_call(record(turn.thread_id, turn.message_id, attempt=3,
                                               cost_nano_usd=None, cost_source="unpriced",
                                               created_at=when))  # fmt: skip
        ledger = Ledger(db)
        rows = await ledger.call_rows()
        assert [r.cost_nano_usd for r in rows] == [big, 3, None]
        total = await ledger.spend_total(start=when - timedelta(seconds=1),
                                         end=when + timedelta(seconds=1))  # fmt: skip
        assert total.nano_usd == big + 3 and isinstance(total.nano_usd, int)
        assert (total.calls, total.unpriced_calls) == (3, 1)
    finally:
        await db.dispose()


async def test_migrations_are_idempotent(database: Database) -> None:
    db = database.engine()
    try:
        version = sa.text("SELECT version_num FROM alembic_version ORDER BY version_num")
        async with db.connect() as conn:
            before = (await conn.execute(version)).scalars().all()
        await upgrade(db)  # the fixture already upgraded once: these are runs two and three
        await upgrade(db)
        async with db.connect() as conn:
            after = (await conn.execute(version)).scalars().all()
            tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert before and after == before
        assert {"threads", "messages", "calls", "posts", "feedback", "channel_settings"} <= tables
    finally:
        await db.dispose()


async def test_event_key_is_unique(database: Database) -> None:
    db = database.engine()
    conversations = Conversations(db)
    try:
        first = await conversations.start_turn(REF, text="q", author="U1", event_key="ev")
        other = ThreadRef("slack", "T1", "C2", "elsewhere")
        second = await conversations.start_turn(other, text="q", author="U1", event_key="ev")
        assert first is not None and second is None
        async with db.connect() as conn:
            keys = (await conn.execute(sa.select(messages_t.c.event_key))).scalars().all()
        assert "ev" in keys
        assert "never-seen" not in keys
    finally:
        await db.dispose()


async def test_ten_kilobyte_thread_id_is_stored_and_found(database: Database) -> None:
    db = database.engine()
    conversations = Conversations(db)
    try:
        long_id = "th-" + "é9" * 5000  # 10 KB of text, 15 KB of UTF-8
        ref = ThreadRef("discord", "G1", "C1", long_id)
        turn = await conversations.start_turn(ref, text="q", author="U1", event_key="e-long")
        assert turn is not None
        assert await conversations.thread_exists(ref)
        assert not await conversations.thread_exists(ThreadRef("discord", "G1", "C1", long_id[:-1]))
        again = await conversations.start_turn(ref, text="q2", author="U1", event_key="e-long2")
        assert again is not None and again.thread_id == turn.thread_id
        async with db.connect() as conn:
            assert await conn.scalar(sa.select(threads_t.c.external_id)) == long_id
    finally:
        await db.dispose()


async def test_recent_turns_are_the_newest_before_the_question(database: Database) -> None:
    db = database.engine()
    conversations = Conversations(db)
    try:
        for n in range(5):
            await conversations.start_turn(REF, text=f"q{n}", author="U1", event_key=f"e{n}")
        turn = await conversations.start_turn(REF, text="q5", author="U1", event_key="e5",
                                              history_limit=3)  # fmt: skip
        assert turn is not None
        assert [t.text for t in turn.history] == ["q2", "q3", "q4"]
    finally:
        await db.dispose()


async def test_record_answer_links_the_call(database: Database) -> None:
    db = database.engine()
    conversations = Conversations(db)
    try:
        turn = await conversations.start_turn(REF, text="q", author="U1", event_key="e")
        assert turn is not None
        call_id, answer_id = await conversations.record_answered_call(
            record(turn.thread_id, turn.message_id), "a"
        )
        await conversations.record_posts("slack", ["1.1", "1.2", "1.1"], call_id)
        assert await conversations.call_for_post("slack", "1.2") == call_id
        assert await conversations.call_for_post("discord", "1.2") is None
        async with db.connect() as conn:
            assert await conn.scalar(sa.select(calls_t.c.answer_id)) == answer_id
        view = await conversations.call(call_id)
        assert view is not None and view.thread_external_id == REF.external_id
    finally:
        await db.dispose()


async def test_a_finished_answers_posts_point_at_its_call_by_id_or_by_key(
    database: Database,
) -> None:
    """The answerer knows its call's id; a finish kept through an outage knows only the key."""
    db = database.engine()
    conversations = Conversations(db)
    try:
        ids = []
        for n, by_id in ((1, True), (2, False)):
            turn = await conversations.start_turn(REF, text=f"q{n}", author="U1",
                                                  event_key=f"e{n}")  # fmt: skip
            assert turn is not None
            call_id, _ = await conversations.record_answered_call(
                record(turn.thread_id, turn.message_id, key=f"k{n}"), "a"
            )
            await conversations.finish_question(turn.message_id, "slack", [f"{n}.1"], f"k{n}",
                                                call_id if by_id else 0)  # fmt: skip
            ids.append(call_id)
        assert [await conversations.call_for_post("slack", f"{n}.1") for n in (1, 2)] == ids
        async with db.connect() as conn:
            asked = sa.select(messages_t.c.state).where(messages_t.c.role == "user")
            states = (await conn.execute(asked)).scalars().all()
        assert states == ["answered", "answered"]
    finally:
        await conversations.close()
        await db.dispose()
