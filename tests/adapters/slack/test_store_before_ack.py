"""The first milliseconds of a question (issue 21 items 3 and 4): Slack's 200 goes out only
once the question is stored, in HTTP and Socket Mode, so a crash right after it loses nothing;
a question the database cannot take in time is not acknowledged (Slack delivers it again);
and a thread reply that arrives before its thread's first question is stored still gets
answered. A real `kill -9` at the 200 is in test_kill9.py."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa

from bot.conversation.patience import SLOW
from storage.tables import messages_t
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import Harness, envelope, mention, message
from tests.conftest import Database
from tests.fakes import FakeProvider, Scripted


async def questions(slack: Harness) -> list[Any]:
    async with slack.app.stores.db.connect() as conn:
        asked = sa.select(messages_t).where(messages_t.c.role == "user").order_by(messages_t.c.id)
        return list((await conn.execute(asked)).all())


async def deliver(
    slack: Harness, mode: str, event: dict[str, Any], retry: int | None = None
) -> int:
    """One delivery; the status Slack sees (Socket Mode: 200 is the ack, anything else none)."""
    if mode == "http":
        return (await slack.http(event, retry=retry)).status
    return int((await slack.socket(event)).status)


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_the_question_is_stored_before_slack_gets_its_ack(
    database: Database, make_harness: MakeHarness, mode: str
) -> None:
    slack = await make_harness(database)
    status = await deliver(slack, mode, envelope(mention("Where are my invoices?", "300.000100")))
    # Nothing else has run yet: a kill -9 now finds the question in the database.
    stored = await questions(slack)
    assert status == 200 and [q.text for q in stored] == ["Where are my invoices?"]
    await slack.settle()
    assert [q.state for q in await questions(slack)] == ["answered"]


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_question_the_database_cannot_take_in_time_is_not_acknowledged(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack, mode: str
) -> None:
    slack = await make_harness(sqlite_db, database_wait_s=0.3)
    event = envelope(mention("Is billing down?", "300.000200"))
    locker = sqlite3.connect(sqlite_db.url.split("///", 1)[1], isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process writing: no one else can
    try:
        assert await deliver(slack, mode, event) >= 500  # not acknowledged: Slack retries
        assert await deliver(slack, mode, event, retry=1) >= 500  # still waiting, not twice
        await fake_slack.until(lambda: any(SLOW.strip() in m.body for m in slack.answers()), 5)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await slack.settle()  # stored and answered once the database takes it
    assert await deliver(slack, mode, event, retry=2) == 200  # the next redelivery: a duplicate
    await slack.settle()
    [shown] = slack.answers()
    assert shown.body.startswith("Here is how") and SLOW.strip() not in shown.body
    assert [q.state for q in await questions(slack)] == ["answered"]


async def test_follow_ups_right_after_or_before_their_thread_are_all_answered(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack, provider: FakeProvider
) -> None:
    """Each follow-up (a thread reply without a mention) is sent the moment its parent is
    acknowledged; a few arrive before their parent (Slack does not promise order). A scaled
    version of 600 follow-ups under a 500-message burst (bench/bench_follow_ups.py)."""
    provider.default = Scripted(text="Here is how.", chunks=1)
    slack = await make_harness(sqlite_db)
    threads = [f"400.{n:06d}" for n in range(1, 17)]

    async def conversation(n: int, thread: str) -> None:
        parent = envelope(mention(f"Question {n}?", thread))
        replies = [envelope(message(f"And {n}.{k}?", f"401.{n:04d}{k:02d}", thread))
                   for k in range(1 + n % 2)]  # fmt: skip
        if n % 4 == 0:  # out of order: a follow-up first, its parent 20 ms later
            first = asyncio.create_task(slack.http(replies.pop(0)))
            await asyncio.sleep(0.02)
            assert (await slack.http(parent)).status == (await first).status == 200
        else:
            assert (await slack.http(parent)).status == 200
        for reply in replies:  # the moment the parent is acknowledged
            assert (await slack.http(reply)).status == 200

    await asyncio.gather(*(conversation(n, t) for n, t in enumerate(threads)))
    await slack.settle()
    asked = await questions(slack)
    assert len(asked) == 16 + 24 and all(q.state == "answered" for q in asked)
    answered = [m.thread_ts for m in slack.answers()]
    assert [answered.count(t) for t in threads] == [2 + n % 2 for n in range(16)]
