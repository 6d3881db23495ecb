"""A crash at each stage of a Slack answer, then a restart: every question ends with exactly one
complete answer in its thread and one ledger row per provider request (issue 13).

The crash is emulated in-process so the suite stays fast: the first app's answer is abandoned
where it stands (its provider, or Slack, never answers again) and no cleanup code of it runs,
which is what `kill -9` leaves behind. The restarted app runs on a clock past the dead one's
lease, as a real restart after the lease would. One real `kill -9` of `switchboard run` is in
tests/adapters/slack/test_kill9.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.conversation.engine import STALE
from storage.tables import calls_t, messages_t, utcnow
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import Harness, envelope, mention
from tests.bot.knowledge.test_answers import MOVING, knowledge
from tests.conftest import Database
from tests.fakes import FakeProvider, Scripted

ANSWER = "First half of the answer. Second half of the answer, complete."
SOURCES = ("*Sources:* <https://help.acme.test/moving/#followers|Moving your account › Move your "
           "followers>")
LEASE = 5.0


def later(seconds: float) -> Any:
    return lambda: utcnow() + timedelta(seconds=seconds)


@pytest.fixture
def abandoned() -> Iterator[list[asyncio.Task[Any]]]:
    """The dead process's tasks: left alone during the test, cancelled only at its end."""
    tasks: list[asyncio.Task[Any]] = []
    yield tasks
    for task in tasks:
        task.cancel()


async def checkpointed(db: Any) -> None:
    """Wait until the half-written message's id is stored: a crash between a message's first
    post and that write (a few milliseconds) would leave it behind (a documented limit)."""
    async with asyncio.timeout(5):
        while True:
            async with db.connect() as conn:
                if await conn.scalar(sa.select(messages_t.c.checkpoint).where(
                        messages_t.c.checkpoint.is_not(None))):  # fmt: skip
                    return
            await asyncio.sleep(0.01)


async def eventually(condition: Any, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - the provider has no event to wait on
            await asyncio.sleep(0.005)


def crash(harness: Harness, abandoned: list[asyncio.Task[Any]]) -> None:
    abandoned.extend(t for t in asyncio.all_tasks() if t.get_name().startswith("slack-answer"))


async def settled(slack: Harness) -> tuple[list[Any], list[Any], list[Any]]:
    async with slack.app.stores.db.connect() as conn:
        calls = list((await conn.execute(sa.select(calls_t).order_by(calls_t.c.id))).all())
        questions = list(
            (await conn.execute(sa.select(messages_t).where(messages_t.c.role == "user"))).all()
        )
    return slack.answers(), calls, questions


async def recover(restarted: Harness, event: dict[str, Any], how: str) -> None:
    """The restarted app finds the dead one's question: on Slack's redelivery of its event, or
    in the recovery sweep."""
    if how == "redelivery":
        await restarted.http(event, retry=1)
        await restarted.settle()
    else:
        await restarted.adapter.engine.recover_all("slack", restarted.adapter.recovery_reply)


def one_complete_answer(fake: FakeSlack) -> None:
    shown = [m for m in fake.messages() if m.thread_ts == "500.000100"]
    assert len(shown) == 1, [m.body for m in shown]
    assert shown[0].body == ANSWER
    assert shown[0].block("actions") is not None  # the finished answer, with its buttons


@pytest.mark.parametrize(
    ("mode", "hang_after", "how"),
    [
        ("native", 2, "start-up"),  # mid-stream, chat.startStream
        ("native", 2, "redelivery"),  # the same, found through Slack redelivering the event
        ("update", 2, "start-up"),  # mid-stream, post + chat.update
        ("native", 0, "start-up"),  # before the first token
        ("update", 0, "start-up"),  # before the first token (a placeholder is showing)
    ],
)
async def test_crash_while_answering_then_restart_answers_once(
    database: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
    abandoned: list[asyncio.Task[Any]],
    mode: str,
    hang_after: int,
    how: str,
) -> None:
    provider.default = Scripted(text=ANSWER, chunks=4)  # what the restarted process gets
    provider.enqueue(Scripted(text=ANSWER, chunks=4, hang_after=hang_after))
    settings = {"slack_stream_mode": mode, "answer_lease_s": LEASE}
    dead = await make_harness(database, **settings)
    event = envelope(mention("How do I rotate my keys?", "500.000100"))
    await dead.http(event)
    await asyncio.sleep(0)
    await eventually(lambda: len(provider.requests) == 1)
    if hang_after:
        await fake_slack.until(lambda: any("First half" in m.body for m in dead.answers()), 5)
    if hang_after or mode == "update":  # a message is showing (partial text, or placeholder)
        await checkpointed(dead.app.stores.db)
    crash(dead, abandoned)

    restarted = await make_harness(database, clock=later(LEASE + 1), **settings)
    await recover(restarted, event, how)

    one_complete_answer(fake_slack)
    _, calls, questions = await settled(restarted)
    assert len(calls) == len(provider.requests) == 2  # the dead request is on the ledger too
    assert [c.status for c in calls] == ["error", "ok"]
    assert calls[0].error_kind == "interrupted" and calls[0].cost_source == "estimated"
    assert calls[0].cost_nano_usd and calls[0].cost_nano_usd > 0
    assert [q.state for q in questions] == ["answered"]
    # A later sweep, or another redelivery, finds nothing more to do.
    engine, reply_for = restarted.adapter.engine, restarted.adapter.recovery_reply
    assert await engine.recover_all("slack", reply_for) == []
    await restarted.http(event, retry=2)
    await restarted.settle()
    one_complete_answer(fake_slack)


@pytest.mark.parametrize(("mode", "last_call"), [("native", "chat.stopStream"),
                                                 ("update", "chat.update")])  # fmt: skip
async def test_crash_after_the_answer_before_its_posts_are_stored(
    database: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
    abandoned: list[asyncio.Task[Any]],
    mode: str,
    last_call: str,
) -> None:
    provider.enqueue(Scripted(text=ANSWER, chunks=4))
    settings = {"slack_stream_mode": mode, "answer_lease_s": LEASE}
    dead = await make_harness(database, **settings)
    fake_slack.hang_next(last_call) if mode == "native" else None
    if mode == "update":
        # The placeholder's updates come first; the last chat.update is the one with buttons.
        original, armed = fake_slack._answer, [True]

        def hang_on_final(method: str, args: dict[str, Any], request: Any) -> dict[str, Any]:
            final = method == "chat.update" and len(args.get("blocks") or ()) > 1
            if final and armed.pop() if armed else False:
                fake_slack.hang_next("chat.update")
            return original(method, args, request)

        fake_slack._answer = hang_on_final  # type: ignore[method-assign]
    await dead.http(envelope(mention("How do I rotate my keys?", "500.000100")))
    await fake_slack.until(lambda: any(m.block("actions") for m in dead.answers()), 5)
    await checkpointed(dead.app.stores.db)
    crash(dead, abandoned)
    async with dead.app.stores.db.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM posts")) == 0

    restarted = await make_harness(database, clock=later(LEASE + 1), **settings)
    await restarted.adapter.engine.recover_all("slack", restarted.adapter.recovery_reply)
    one_complete_answer(fake_slack)
    _, calls, questions = await settled(restarted)
    assert len(calls) == len(provider.requests) == 1  # stored before the crash: not asked again
    assert [q.state for q in questions] == ["answered"]
    async with restarted.app.stores.db.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM posts")) == 1


async def test_old_unanswered_question_gets_an_apology_in_place(
    sqlite_db: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
    abandoned: list[asyncio.Task[Any]],
) -> None:
    provider.enqueue(Scripted(text=ANSWER, chunks=4, hang_after=2))
    dead = await make_harness(sqlite_db, answer_lease_s=LEASE, recovery_max_age_s=60)
    await dead.http(envelope(mention("How do I rotate my keys?", "500.000100")))
    await fake_slack.until(lambda: any("First half" in m.body for m in dead.answers()), 5)
    await checkpointed(dead.app.stores.db)
    crash(dead, abandoned)
    restarted = await make_harness(sqlite_db, clock=later(61), recovery_max_age_s=60)
    await restarted.adapter.engine.recover_all("slack", restarted.adapter.recovery_reply)
    [shown] = [m for m in fake_slack.messages() if m.thread_ts == "500.000100"]
    assert STALE in shown.body and "First half" not in shown.body
    _, calls, questions = await settled(restarted)
    assert len(calls) == len(provider.requests) == 1 and calls[0].error_kind == "interrupted"
    assert [q.state for q in questions] == ["failed"]


async def test_two_replicas_recovering_at_once_answer_once(
    database: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
    abandoned: list[asyncio.Task[Any]],
) -> None:
    provider.default = Scripted(text=ANSWER, chunks=4)
    provider.enqueue(Scripted(text=ANSWER, chunks=4, hang_after=2))
    dead = await make_harness(database, answer_lease_s=LEASE)
    await dead.http(envelope(mention("How do I rotate my keys?", "500.000100")))
    await fake_slack.until(lambda: any("First half" in m.body for m in dead.answers()), 5)
    await checkpointed(dead.app.stores.db)
    crash(dead, abandoned)
    one, two = [await make_harness(database, clock=later(LEASE + 1)) for _ in range(2)]
    outcomes = await asyncio.gather(
        *(h.adapter.engine.recover_all("slack", h.adapter.recovery_reply) for h in (one, two))
    )
    assert sorted(o.status for found in outcomes for o in found) in (
        ["answered"],
        ["answered", "duplicate"],
    )
    one_complete_answer(fake_slack)
    assert len(provider.requests) == 2


@pytest.mark.parametrize("how", ["start-up", "redelivery"])
async def test_an_answer_from_the_docs_keeps_its_sources_when_posted_after_a_crash(
    database: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
    abandoned: list[asyncio.Task[Any]],
    how: str,
) -> None:
    """The answer was stored (its sources with it) but its posts were not when the process
    died: the restarted one posts the stored answer, under the same sources line, whether the
    recovery sweep or Slack's redelivery finds it."""
    await knowledge(database, ("default", "moving.md", MOVING))
    provider.enqueue(Scripted(text=ANSWER, chunks=4))
    settings = {"slack_stream_mode": "native", "answer_lease_s": LEASE}
    dead = await make_harness(database, **settings)
    fake_slack.hang_next("chat.stopStream")
    event = envelope(mention("how do I move my followers to a new account?", "500.000100"))
    await dead.http(event)
    await fake_slack.until(lambda: any(m.block("actions") for m in dead.answers()), 5)
    [shown] = dead.answers()
    cited = shown.block("context")
    assert cited is not None and cited["elements"][0]["text"] == SOURCES
    await checkpointed(dead.app.stores.db)
    crash(dead, abandoned)

    restarted = await make_harness(database, clock=later(LEASE + 1), **settings)
    await recover(restarted, event, how)
    [answer] = [m for m in fake_slack.messages() if m.thread_ts == "500.000100"]
    assert answer.body == ANSWER and answer.block("actions") is not None
    sources = answer.block("context")
    assert sources is not None and sources["elements"][0]["text"] == SOURCES
    assert len(provider.requests) == 1  # posted from storage, not asked again
