"""The database goes away before, during and after an answer (a proxy in front of PostgreSQL is
cut: real refused and reset connections), or its pool runs dry: the user always hears
something, every provider call reaches the ledger once the database is back, and no stream is
left open (issue 13)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.conversation.messages import AnswerMeta
from bot.conversation.patience import SLOW
from bot.errors import ServiceUnavailable
from storage.tables import calls_t, messages_t, posts_t, utcnow
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import FakeProvider, RecordingReply, Scripted, incoming
from tests.pg_proxy import CuttableProxy


async def ledger(pg: Database) -> tuple[list[sa.Row], list[sa.Row], list[sa.Row]]:
    """Calls, questions and posts, read past the proxy."""
    engine = pg.engine()
    try:
        async with engine.connect() as conn:
            calls = list((await conn.execute(sa.select(calls_t))).all())
            asked = sa.select(messages_t).where(messages_t.c.role == "user")
            questions = list((await conn.execute(asked)).all())
            posts = list((await conn.execute(sa.select(posts_t))).all())
    finally:
        await engine.dispose()
    return calls, questions, posts


@dataclass
class CuttingReply(RecordingReply):
    """A platform reply during which the database goes away (after the first token, or once
    the answer is shown)."""

    proxy: CuttableProxy | None = None
    cut_at: str = "first token"

    async def append(self, text: str) -> None:
        await super().append(text)
        if self.cut_at == "first token" and len(self.deltas) == 1 and self.proxy:
            await self.proxy.cut()

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        posted = await super().finish(text, meta)
        if self.cut_at == "finish" and self.proxy:
            await self.proxy.cut()
        return posted


async def test_database_down_before_a_question(
    pg: Database, proxy: CuttableProxy, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, Database("postgres", proxy.url, pg.schema),
                          database_wait_s=0.5, recovery_max_age_s=2.0)  # fmt: skip
    await proxy.cut()
    reply = RecordingReply()
    started = time.monotonic()
    outcome = await app.engine.handle(incoming("Is anyone there?", "e1"), reply)
    # "Longer than usual" by DATABASE_WAIT_S; when the database is still not back once the
    # question would be too old to answer (RECOVERY_MAX_AGE_S), one clear line.
    assert reply.deltas == [SLOW] and reply.shown_at[0] - started < 0.5 + 0.8  # (a busy CI)
    assert outcome.status == "failed" and reply.error == ServiceUnavailable.user_message
    assert time.monotonic() - started < 5  # a bounded wait
    assert provider.requests == []

    async def back_soon() -> None:
        await asyncio.sleep(0.2)
        await proxy.restore()

    returning = asyncio.create_task(back_soon())
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming("Still there?", "e2"), reply)
    await returning
    assert outcome.status == "answered" and reply.final == Scripted().text
    calls, questions, _ = await ledger(pg)
    assert len(calls) == 1 and [q.state for q in questions] == ["answered"]


@pytest.mark.parametrize("cut_at", ["first token", "finish"])
async def test_database_cut_during_or_after_an_answer(
    pg: Database, proxy: CuttableProxy, make_app: MakeApp, provider: FakeProvider, cut_at: str
) -> None:
    provider.enqueue(Scripted(chunks=4, usage=(120, 40)))
    app = await fixed_app(make_app, Database("postgres", proxy.url, pg.schema))
    reply = CuttingReply(post_ids=("1700.0001",), proxy=proxy, cut_at=cut_at)
    outcome = await app.engine.handle(incoming("How do refunds work?", "e1"), reply)
    # The user got the whole answer, and the reply was closed.
    assert outcome.status == "answered" and reply.final == Scripted().text
    assert reply.ended_at is not None and reply.error is None
    spool = app.stores.conversations.spool
    assert spool.pending > 0  # what could not be written waits
    calls, questions, posts = await ledger(pg)
    assert posts == [] and [q.state for q in questions] != ["answered"]

    await proxy.restore()
    assert await spool.drain(10)
    calls, questions, posts = await ledger(pg)
    assert len(calls) == len(provider.requests) == 1  # the paid call is on the ledger, once
    assert calls[0].cost_nano_usd and calls[0].cost_nano_usd > 0 and calls[0].answer_id
    assert [q.state for q in questions] == ["answered"]
    assert [p.external_id for p in posts] == ["1700.0001"]  # reactions will find the answer
    assert await app.ops.feedback("slack", "1700.0001", "U2", 1) == calls[0].id
    now = utcnow()  # and what budgets read counts it
    spent = await app.stores.ledger.spend_total(start=now - timedelta(hours=1), end=now, user="U1")
    assert spent.nano_usd == calls[0].cost_nano_usd and spent.calls == 1


class SmallPool(Database):
    """One pooled connection, and a short wait for it: exhaustion within a test's patience."""

    def engine(self) -> AsyncEngine:
        args = {"server_settings": {"search_path": self.schema or "public"}}
        return create_async_engine(self.url, pool_size=1, max_overflow=0, pool_timeout=0.2,
                                   connect_args=args)  # fmt: skip


async def test_exhausted_pool_refuses_cleanly_then_answers(
    pg: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, SmallPool("postgres", pg.url, pg.schema), database_wait_s=0.5,
                          recovery_max_age_s=0.8)  # fmt: skip
    held = await app.stores.db.connect()  # every connection in use (a stuck query, a burst)
    try:
        reply = RecordingReply()
        outcome = await app.engine.handle(incoming("Busy?", "e1"), reply)
        assert outcome.status == "failed" and reply.error == ServiceUnavailable.user_message
        assert provider.requests == []
    finally:
        await held.close()
    reply = RecordingReply()
    assert (await app.engine.handle(incoming("Now?", "e2"), reply)).status == "answered"


async def test_a_stalled_database_gets_the_slow_line_by_database_wait_s_then_the_answer(
    pg: Database, proxy: CuttableProxy, make_app: MakeApp, provider: FakeProvider
) -> None:
    """Issue 21 item 5: PostgreSQL stopped (connections accepted, nothing answered) for a
    while, scaled down: DATABASE_WAIT_S=0.4 and a 1.5-s stall stand for 10 s and 40 s."""
    app = await fixed_app(make_app, Database("postgres", proxy.url, pg.schema),
                          database_wait_s=0.4)  # fmt: skip
    assert (await app.engine.handle(incoming("Warm up?", "e0"), RecordingReply())).status == (
        "answered"
    )
    proxy.stall()
    reply = RecordingReply()
    started = time.perf_counter()
    answering = asyncio.create_task(app.engine.handle(incoming("Anyone there?", "e1"), reply))
    await asyncio.sleep(1.5)
    assert reply.deltas and reply.deltas[0] == SLOW, "silence during the stall"
    assert reply.shown_at[0] - started < 0.4 + 0.6  # by DATABASE_WAIT_S (and a busy CI's lag)
    assert reply.final is None and provider.requests[1:] == []
    proxy.resume()
    outcome = await asyncio.wait_for(answering, 15)
    assert outcome.status == "answered" and reply.final == Scripted().text  # the slow line gone
    assert await app.stores.conversations.spool.drain(10)
    calls, questions, _ = await ledger(pg)
    assert len(calls) == len(provider.requests) == 2
    assert [q.state for q in questions] == ["answered", "answered"]
