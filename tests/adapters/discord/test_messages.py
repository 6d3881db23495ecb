"""Help channels, threads, forums, mentions and DMs, answered through the real discord.py."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from tests.adapters.discord.conftest import MakeHarness
from tests.adapters.discord.harness import (
    BOT_ID,
    FORUM_ID,
    GENERAL_ID,
    HELP_ID,
    USER_ID,
    RestCall,
)
from tests.adapters.discord.rows import calls
from tests.conftest import Database
from tests.fakes import FakeProvider, Scripted

POST = ("POST", "/channels/{channel_id}/messages")
PATCH = ("PATCH", "/channels/{channel_id}/messages/{message_id}")
THREAD = ("POST", "/channels/{channel_id}/messages/{message_id}/threads")


def in_channel(call: RestCall, channel_id: int) -> bool:
    return f"/channels/{channel_id}/" in call.url


def posts(h: Any, channel_id: int) -> list[RestCall]:
    return [
        c for c in h.rest.calls if (c.method, c.path) in (POST, PATCH) and in_channel(c, channel_id)
    ]


async def test_help_channel_question_gets_a_thread_and_a_streamed_answer_with_footer(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    question = await h.message(HELP_ID, "How do I reset my password?")
    assert h.errors == []
    thread_id = int(question["id"])  # a thread started from a message takes its id
    (created,) = h.rest.of(*THREAD)
    assert f"/channels/{HELP_ID}/messages/{thread_id}/threads" in created.url
    assert created.json["name"] == "How do I reset my password?"
    # Typing first, then the answer: sent, then edited, all inside the thread.
    typing = h.rest.of("POST", "/channels/{channel_id}/typing")
    assert typing and in_channel(typing[0], thread_id)
    answer = posts(h, thread_id)
    assert answer[0].path == POST[1] and typing[0].at <= answer[0].at
    assert not posts(h, HELP_ID)
    (message,) = h.bot_messages(thread_id)
    (row,) = await calls(h.app)
    assert message["content"].startswith("Here is how")
    footer = message["content"].rsplit("\n", 1)[1]
    assert footer.startswith("-# ") and row.model_asked in footer and " ms" in footer
    assert row.channel == str(HELP_ID) and row.platform == "discord"
    buttons = [b["custom_id"] for r in message["components"] for b in r["components"]]
    assert buttons == [f"sb:escalate:{row.id}", f"sb:solved:{row.id}"]
    assert all(c.json["allowed_mentions"] == {"parse": []} for c in answer)


async def test_streaming_edits_respect_the_minimum_interval(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    words = " ".join(f"word{i}" for i in range(130))
    # 40 deltas, 15 ms apart: ~0.6 s of streaming against a 0.2 s minimum edit interval.
    provider.default = Scripted(text=f"Streaming answer: {words}.", chunks=40, delay_s=0.015)
    h = await make_harness(sqlite_db, interval=0.2)
    question = await h.message(HELP_ID, "Explain streaming please")
    writes = posts(h, int(question["id"]))
    assert len(writes) >= 3, [w.path for w in writes]  # a send and at least two edits
    gaps = [b.at - a.at for a, b in itertools.pairwise(writes)]
    assert min(gaps) >= 0.19, gaps
    (message,) = h.bot_messages(int(question["id"]))
    assert words in message["content"]


async def test_follow_up_in_the_thread_uses_its_history_without_a_mention(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    h = await make_harness(sqlite_db)
    first = await h.message(HELP_ID, "My deploy fails with error E42")
    thread_id = int(first["id"])
    await h.thread_created(thread_id)  # the gateway tells us about the thread we made
    first_answer = h.bot_messages(thread_id)[0]["content"].rsplit("\n-# ", 1)[0]
    await h.message(thread_id, "It still fails after the retry")
    assert h.errors == []
    history = provider.requests[-1].messages
    assert [m.role for m in history] == ["system", "user", "assistant", "user"]
    assert history[1].content == "My deploy fails with error E42"
    assert history[2].content == first_answer
    assert history[3].content == "It still fails after the retry"
    assert len(h.bot_messages(thread_id)) == 2
    rows = await calls(h.app)
    assert len(rows) == 2 and rows[0].thread_id == rows[1].thread_id


async def test_follow_up_in_a_thread_missing_from_the_cache_is_fetched(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    first = await h.message(HELP_ID, "Where are the logs?")
    thread_id = int(first["id"])
    await h.message(thread_id, "And the older ones?")  # no THREAD_CREATE seen (e.g. a restart)
    assert h.rest.of("GET", "/channels/{channel_id}")
    assert len(h.bot_messages(thread_id)) == 2
    rows = await calls(h.app)
    assert {r.thread_id for r in rows} == {rows[0].thread_id}


async def test_forum_post_is_answered_in_the_post(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    thread_id = await h.forum_post("Billing question", "Why was I charged twice this month?")
    assert h.errors == []
    (message,) = h.bot_messages(thread_id)
    assert message["content"].startswith("Here is how")
    assert not h.rest.of(*THREAD)  # the post is already a thread
    (row,) = await calls(h.app)
    assert row.channel == str(FORUM_ID)


async def test_same_message_dispatched_twice_is_answered_once(
    database: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(database)
    payload = h.message_payload(HELP_ID, "Is the API down?")
    # Twice at once (a gateway replay racing the original) and once more later (a restart).
    h.state.parse_message_create(payload)
    h.state.parse_message_create(payload)
    await h.settle()
    await h.dispatch_message(payload)
    assert h.errors == []
    thread_id = int(payload["id"])
    assert len(h.rest.of(*THREAD)) == 1
    assert len(h.bot_messages(thread_id)) == 1
    assert len(await calls(h.app)) == 1


async def test_model_output_cannot_ping_anyone(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    provider.default = Scripted(text="Hey @everyone and @here, ask <@123> or <@&456>.")
    h = await make_harness(sqlite_db)
    question = await h.message(HELP_ID, "Who can help me?")
    (message,) = h.bot_messages(int(question["id"]))
    assert "@everyone" in message["content"] and "<@123>" in message["content"]
    sent = [c for c in h.rest.calls if (c.method, c.path) in (POST, PATCH)]
    assert sent and all(c.json["allowed_mentions"] == {"parse": []} for c in sent)


async def test_long_answer_arrives_complete_across_messages_with_balanced_fences(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    code = "\n".join(f"    value_{i} = compute({i})  # step {i}" for i in range(60))
    prose = " ".join(f"Sentence {i} explains the step." for i in range(40))
    text = f"{prose}\n\n```python\n{code}\n```\n\n{prose}\n\n```python\n{code}\n```\n\nDone."
    assert len(text) >= 5000
    provider.default = Scripted(text=text)
    h = await make_harness(sqlite_db, llm_max_output_tokens=4000)
    question = await h.message(HELP_ID, "Show me the whole script")
    assert h.errors == []
    parts = [m["content"] for m in h.bot_messages(int(question["id"]))]
    assert len(parts) >= 3
    assert all(len(p) <= 2000 for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts)
    body = "\n".join(parts).rsplit("\n-# ", 1)[0]

    def words(s: str) -> list[str]:
        return [w for w in s.split() if not w.startswith("```")]

    assert words(body) == words(text)
    # Buttons and footer only under the last part.
    assert [bool(m["components"]) for m in h.bot_messages(int(question["id"]))][-1]
    assert not any(m["components"] for m in h.bot_messages(int(question["id"]))[:-1])


async def test_mention_elsewhere_is_answered_in_place_and_unmentioned_chatter_ignored(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    h = await make_harness(sqlite_db)
    await h.message(GENERAL_ID, "just chatting, nothing for the bot")
    assert h.rest.calls[-1].path.startswith("/applications")  # nothing since start-up
    question = await h.message(GENERAL_ID, f"<@{BOT_ID}> what is the SLA?")
    assert h.errors == []
    (_message,) = h.bot_messages(GENERAL_ID)
    first = next(c for c in h.rest.of(*POST) if in_channel(c, GENERAL_ID))
    assert str(first.json["message_reference"]["message_id"]) == question["id"]
    assert provider.requests[-1].messages[-1].content == "what is the SLA?"
    assert not h.rest.of(*THREAD)
    assert len(await calls(h.app)) == 1


async def test_direct_message_is_answered(sqlite_db: Database, make_harness: MakeHarness) -> None:
    h = await make_harness(sqlite_db)
    dm_channel = 888_000_000_000_000_001
    await h.message(dm_channel, "hello, can you help?", guild=False)
    assert h.errors == []
    (message,) = h.bot_messages(dm_channel)
    assert message["content"].startswith("Here is how")
    (row,) = await calls(h.app)
    assert row.workspace == "dm" and row.channel == str(dm_channel)


async def test_bots_system_messages_and_edits_are_ignored(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    before = len(h.rest.calls)
    await h.message(HELP_ID, "I am another bot", author_id=USER_ID + 5, bot=True)
    await h.message(HELP_ID, "echo of myself", author_id=BOT_ID, bot=True)
    await h.message(HELP_ID, "", kind=7)  # "user joined" system message
    edited = h.message_payload(HELP_ID, "edited question")
    h.state.parse_message_update(edited)  # MESSAGE_UPDATE: an edit, not a new question
    await h.settle()
    await asyncio.sleep(0)
    assert h.errors == []
    assert h.rest.calls[before:] == []
    assert await calls(h.app) == []
