"""An outage longer than a question's lease (issue 21 item 1): answers finished while the
database was away are not claimed and answered again when it returns, by the replica that
answered them nor by another one, and the ledger holds one row per provider request.

The outage is a proxy in front of PostgreSQL, cut and restored; its 120 s are the injected
clock's (the lease is the default 30 s), so the test waits well under a second for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.llm.types import ChatRequest, StreamResult
from storage.database import DatabaseUnavailable
from storage.tables import calls_t, messages_t, posts_t, utcnow
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import FakeProvider, RecordingReply, Scripted, incoming
from tests.pg_proxy import CuttableProxy


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class GatedProvider(FakeProvider):
    """Streams only once `gate` is set: the answers are under way when the outage begins.
    `asked` is set once `expected` requests have arrived."""

    gate: asyncio.Event
    asked: asyncio.Event
    expected: int

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        script = super().stream(request)
        first = await anext(script)  # the request is recorded now
        if len(self.requests) >= self.expected:
            self.asked.set()
        await self.gate.wait()
        yield first
        async for item in script:
            yield item


async def rows(pg: Database, table: sa.Table) -> list[Any]:
    engine = pg.engine()
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.select(table).order_by(table.c.id))).all())
    finally:
        await engine.dispose()


async def test_an_outage_longer_than_the_lease_answers_nothing_twice(
    pg: Database, proxy: CuttableProxy, make_app: MakeApp
) -> None:
    clock = Clock(utcnow())
    provider = GatedProvider(default=Scripted(chunks=2, usage=(120, 40)))
    provider.gate, provider.asked, provider.expected = asyncio.Event(), asyncio.Event(), 3
    through = Database("postgres", proxy.url, pg.schema)
    settings = {"answer_lease_s": 30.0, "database_wait_s": 0.3, "clock": clock}
    owner = await fixed_app(make_app, through, provider_=provider, **settings)
    replica = await fixed_app(make_app, through, provider_=provider, **settings)
    replies = [RecordingReply(post_ids=(f"1700.00{n}",)) for n in range(3)]
    answering = [asyncio.create_task(owner.engine.handle(incoming(f"Question {n}?", f"e{n}",
                 thread=f"t{n}"), reply)) for n, reply in enumerate(replies)]  # fmt: skip
    await asyncio.wait_for(provider.asked.wait(), 10)  # stored, the requests noted and made

    await proxy.cut()  # PostgreSQL restarts (or fails over): 120 s by the clock
    with pytest.raises(DatabaseUnavailable):  # the other replica's sweep sees the outage
        await replica.engine.recover_all("slack", lambda i: RecordingReply())
    provider.gate.set()  # the answers finish while the database is away
    assert [o.status for o in await asyncio.gather(*answering)] == ["answered"] * 3
    assert owner.stores.conversations.spool.pending > 0  # their rows and marks are kept
    clock.advance(120)  # every lease ran out long ago
    await proxy.restore()

    # Both replicas sweep at once, before the kept writes have landed.
    outcomes = await asyncio.gather(
        owner.engine.recover_all("slack", lambda i: RecordingReply()),
        replica.engine.recover_all("slack", lambda i: RecordingReply()),
    )
    assert outcomes == [[], []]  # nothing claimed, nothing answered again
    assert await owner.stores.conversations.spool.drain(10)
    clock.advance(31)  # and once the replica's grace after the outage is over
    assert await replica.engine.recover_all("slack", lambda i: RecordingReply()) == []

    calls = await rows(pg, calls_t)
    assert len(calls) == len(provider.requests) == 3  # one row per provider request
    assert {c.error_kind for c in calls} == {None} and {c.cost_source for c in calls} != {
        "estimated"
    }
    asked = [m for m in await rows(pg, messages_t) if m.role == "user"]
    assert [q.state for q in asked] == ["answered"] * 3
    assert len(await rows(pg, posts_t)) == 3  # reactions find every answer
    assert all(r.final and r.final.startswith("Here is how") for r in replies)
