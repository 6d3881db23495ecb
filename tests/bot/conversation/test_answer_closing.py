"""Whatever goes wrong while answering, the reply is closed with a message (a stream is never
left open), and the question is marked failed rather than left for recovery to retry."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest
import sqlalchemy as sa

from bot.conversation.answer import APOLOGY
from bot.llm.types import ChatRequest, StreamResult
from storage.tables import messages_t
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import RecordingReply, incoming


class BuggyProvider:
    """Streams one delta, then fails with an error nobody planned for."""

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        yield "Half an "
        raise RuntimeError("a bug")


async def test_unexpected_error_mid_stream_closes_the_reply(
    sqlite_db: Database, make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    app = await fixed_app(make_app, sqlite_db, provider_=BuggyProvider())
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming("Why?", "e1"), reply)
    assert outcome.status == "failed" and reply.deltas == ["Half an "]
    assert reply.error == APOLOGY and reply.ended_at is not None
    assert "answering question" in caplog.text  # logged with its trace
    async with app.stores.db.connect() as conn:
        states = list(await conn.scalars(sa.select(messages_t.c.state)))
    assert states == ["failed"]
