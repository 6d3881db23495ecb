"""Hostile and odd input through the engine: a clear outcome, no crash, nothing half-written."""

from __future__ import annotations

import pytest

from bot.conversation.engine import EMPTY_MESSAGE
from bot.conversation.prompt import TRIM_NOTICE
from storage.tables import messages_t, threads_t
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import FakeProvider, RecordingReply, incoming
from tests.rows import counts, rows


@pytest.mark.parametrize("text", ["", "   \n\t  ", "\x00\x00\x01", "\u3000\u00a0\r\n"])
async def test_empty_messages_are_rejected_without_a_trace(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider, text: str
) -> None:
    app = await fixed_app(make_app, sqlite_db)
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming(text, "e-empty"), reply)
    assert outcome.status == "rejected"
    assert reply.error == EMPTY_MESSAGE == outcome.message
    assert reply.deltas == [] and reply.final is None
    assert provider.requests == []
    assert await counts(app.stores.db) == (0, 0, 0)


async def test_a_tier_prefix_alone_is_rejected(sqlite_db: Database, make_app: MakeApp) -> None:
    app = await fixed_app(make_app, sqlite_db)
    outcome = await app.engine.handle(incoming("!premium   ", "e-p"), RecordingReply())
    assert outcome.status == "rejected"
    assert await counts(app.stores.db) == (0, 0, 0)


@pytest.mark.parametrize("filler", ["word ", "x"])  # with and without word boundaries
async def test_200k_characters_are_trimmed_with_a_visible_notice(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider, filler: str
) -> None:
    app = await fixed_app(make_app, sqlite_db, max_question_tokens=2000)
    text = (filler * 200_000)[:200_000]
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming(text, "e-big"), reply)
    assert outcome.status == "answered"
    asked = provider.requests[-1].messages[-1].content
    assert 0 < len(asked) <= 2000 * 4 and text.startswith(asked)
    notice = TRIM_NOTICE.format(chars=len(asked))
    assert reply.deltas[0] == notice, "the user sees the notice before the answer"
    assert reply.final is not None and reply.final.startswith(notice)
    stored = await rows(app.stores.db, messages_t)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[0].text == asked
    assert await counts(app.stores.db) == (1, 2, 1)


async def test_nul_bytes_and_control_characters_are_dropped(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, database)  # PostgreSQL refuses NUL in text columns
    outcome = await app.engine.handle(incoming("re\x00set my\x07 pass\x1bword", "e-nul"),
                                      RecordingReply())  # fmt: skip
    assert outcome.status == "answered"
    assert provider.requests[-1].messages[-1].content == "reset my password"
    assert (await rows(app.stores.db, messages_t))[0].text == "reset my password"


async def test_lone_surrogates_are_replaced(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, database)
    outcome = await app.engine.handle(incoming("broken \ud83d emoji \udc00 here", "e-sur"),
                                      RecordingReply())  # fmt: skip
    assert outcome.status == "answered"
    stored = (await rows(app.stores.db, messages_t))[0].text
    stored.encode("utf-8")  # valid UTF-8 now
    assert stored.startswith("broken ") and stored.endswith(" here")


async def test_emoji_and_right_to_left_text_survive_exactly(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    text = "مرحبا، كيف أعيد تعيين كلمة المرور؟ 👋🏽 שלום 👨‍👩‍👧 \u200fok"
    app = await fixed_app(make_app, database)
    outcome = await app.engine.handle(incoming(text, "e-rtl"), RecordingReply())
    assert outcome.status == "answered"
    assert provider.requests[-1].messages[-1].content == text
    assert (await rows(app.stores.db, messages_t))[0].text == text


async def test_ten_kilobyte_thread_and_event_ids(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, database)
    thread, event = "T" * 10_240, "E" * 10_240
    first = await app.engine.handle(incoming("hi", event, thread), RecordingReply())
    second = await app.engine.handle(incoming("and?", event + "2", thread), RecordingReply())
    dup = await app.engine.handle(incoming("hi", event, thread), RecordingReply())
    assert (first.status, second.status, dup.status) == ("answered", "answered", "duplicate")
    (stored,) = await rows(app.stores.db, threads_t)
    assert stored.external_id == thread
    assert await counts(app.stores.db) == (1, 4, 2)
    # The second question was asked with the first turn as history.
    assert len(provider.requests[-1].messages) == 4
