"""A crash mid-answer on Discord, then a restart: the half-written message in the thread is
edited into the one complete answer, and every provider request is on the ledger (issue 13);
an answer stored before the crash is posted with its Sources embed (issue 19).

As in tests/adapters/slack/test_crash_recovery.py, the crash is emulated in-process: the first
bot's answer is abandoned where it stands (its provider never returns) and none of its cleanup
runs; the restarted bot shares Discord's recorded state and runs past the dead one's lease.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.discord.client import SwitchboardBot
from adapters.discord.config import DiscordConfig
from bot.conversation.messages import ReplyLimits
from storage.tables import calls_t, messages_t, utcnow
from tests.adapters.discord.conftest import MakeHarness
from tests.adapters.discord.harness import HELP_ID, Harness, RestCall
from tests.bot.knowledge.test_answers import MOVING, knowledge
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted

ANSWER = "First half of the answer. Second half of the answer, complete."
LEASE = 5.0
SOURCES = {
    "title": "Sources",
    "description": (
        "[Moving your account › Move your followers](<https://help.acme.test/moving/#followers>)"
    ),
}


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
        while not condition():  # noqa: ASYNC110 - discord.py's handler has no event to wait on
            await asyncio.sleep(0.005)


def with_sources(call: RestCall) -> bool:
    """The answer's last edit: its text, buttons and Sources embed."""
    return call.method == "PATCH" and isinstance(call.json, dict) and "embeds" in call.json


def shown(embed: dict[str, Any]) -> dict[str, Any]:
    return {key: embed.get(key) for key in SOURCES}


def crash() -> list[asyncio.Task[Any]]:
    """The dead bot's tasks, left where they stand (cancelled only at the test's end)."""
    abandoned = [t for t in asyncio.all_tasks() if t.get_name().startswith("discord.py:")]
    for task in abandoned:
        task.set_name("dead-process")  # not the restarted bot's work: its harness ignores it
    return abandoned


async def restart(dead: Harness, make_app: MakeApp, database: Database) -> Harness:
    """A new bot past the dead one's lease, on the same Discord (its messages and threads)."""
    app = await make_app(
        database, clock=lambda: utcnow() + timedelta(seconds=LEASE + 1),
        discord_bot_token="discord-test-token", discord_help_channel_ids=(HELP_ID,),
    )  # fmt: skip
    config = DiscordConfig.from_settings(app.settings)
    assert config is not None
    bot = SwitchboardBot(engine=app.engine, ops=app.ops, config=config,
                         limits=ReplyLimits(2000, 0.02))  # fmt: skip
    restarted = Harness(bot, app)
    restarted.rest = dead.rest
    return await restarted.start()


@pytest.mark.parametrize("hang_after", [2, 0])  # mid-stream; before the first token
async def test_crash_mid_answer_then_restart_completes_it_in_place(
    database: Database,
    make_harness: MakeHarness,
    make_app: MakeApp,
    provider: FakeProvider,
    hang_after: int,
) -> None:
    provider.default = Scripted(text=ANSWER, chunks=4)
    provider.enqueue(Scripted(text=ANSWER, chunks=4, hang_after=hang_after))
    dead: Harness = await make_harness(database, answer_lease_s=LEASE)
    question = dead.message_payload(HELP_ID, "How do I rotate my keys?")
    thread = int(question["id"])
    dead.state.parse_message_create(question)  # type: ignore[arg-type]
    await eventually(lambda: len(provider.requests) == 1)
    if hang_after:
        await eventually(lambda: any("First half" in m["content"]
                                     for m in dead.bot_messages(thread)))  # fmt: skip
        await checkpointed(dead.app.stores.db)
    abandoned = crash()
    restarted = await restart(dead, make_app, database)
    bot, app = restarted.bot, restarted.app
    try:
        outcomes = await bot.engine.recover_all("discord", bot.recovery_reply)
        assert [o.status for o in outcomes] == ["answered"]
        shown = dead.bot_messages(thread)
        assert len(shown) == 1, [m["content"] for m in shown]
        assert shown[0]["content"].startswith(ANSWER) and shown[0]["components"]
        async with app.stores.db.connect() as conn:
            calls = list((await conn.execute(sa.select(calls_t).order_by(calls_t.c.id))).all())
            states = list(await conn.scalars(
                sa.select(messages_t.c.state).where(messages_t.c.role == "user")))  # fmt: skip
        assert len(calls) == len(provider.requests) == 2
        assert [c.error_kind for c in calls] == ["interrupted", None]
        assert states == ["answered"]
        assert restarted.errors == []
    finally:
        for task in abandoned:
            task.cancel()
        await restarted.close()


async def test_a_stored_answer_posted_after_a_crash_keeps_its_sources_embed(
    database: Database,
    make_harness: MakeHarness,
    make_app: MakeApp,
    provider: FakeProvider,
) -> None:
    """The answer was stored (its sources with it) but Discord never took its last edit when
    the process died: the recovery sweep posts the stored answer under the same Sources embed
    as the live answer, without asking the provider again. (Discord does not redeliver a
    message the bot saw, so the sweep is the only way back.)"""
    await knowledge(database, ("default", "moving.md", MOVING))
    provider.enqueue(Scripted(text=ANSWER, chunks=4))
    dead: Harness = await make_harness(database, answer_lease_s=LEASE)
    dead.rest.stall(with_sources)
    question = dead.message_payload(HELP_ID, "how do I move my followers to a new account?")
    thread = int(question["id"])
    dead.state.parse_message_create(question)  # type: ignore[arg-type]
    await eventually(lambda: any(with_sources(c) for c in dead.rest.calls))
    [final] = [c for c in dead.rest.calls if with_sources(c)]
    assert [shown(e) for e in final.json["embeds"]] == [SOURCES] and final.json["components"]
    await checkpointed(dead.app.stores.db)
    abandoned = crash()
    dead.rest.stalls.clear()  # Discord answers again; the dead bot's edit stays unanswered
    restarted = await restart(dead, make_app, database)
    try:
        outcomes = await restarted.bot.engine.recover_all("discord", restarted.bot.recovery_reply)
        assert [o.status for o in outcomes] == ["answered"]
        [message] = dead.bot_messages(thread)
        assert message["content"].startswith(ANSWER) and message["components"]
        assert [shown(e) for e in message["embeds"]] == [SOURCES]
        assert len(provider.requests) == 1  # posted from storage, not asked again
        assert restarted.errors == []
    finally:
        for task in abandoned:
            task.cancel()
        await restarted.close()
