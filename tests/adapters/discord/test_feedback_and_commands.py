"""Reactions, buttons (escalate, solved) and slash commands, through real discord.py objects."""

from __future__ import annotations

from typing import Any

from adapters.discord.commands import NOT_ADMIN
from adapters.discord.views import ALREADY_ESCALATED, SOLVED
from routing.tiers import TIERS
from tests.adapters.discord.conftest import MakeHarness
from tests.adapters.discord.harness import (
    ADMIN_ID,
    ADMIN_ROLE_ID,
    BOT_ID,
    HELP_ID,
    USER_ID,
    Harness,
)
from tests.adapters.discord.rows import calls, channel_settings, feedback, threads
from tests.conftest import Database

CALLBACK = ("POST", "/interactions/{webhook_id}/{webhook_token}/callback")


async def answered(h: Harness, text: str = "How do I rotate my API key?") -> tuple[int, int]:
    """Ask in the help channel; (thread id, answer message id)."""
    question = await h.message(HELP_ID, text)
    thread_id = int(question["id"])
    await h.thread_created(thread_id)
    return thread_id, int(h.bot_messages(thread_id)[-1]["id"])


def last_callback(h: Harness) -> dict[str, Any]:
    return h.rest.of(*CALLBACK)[-1].json


async def test_thumbs_reactions_write_feedback_and_removal_withdraws_it(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    thread_id, answer_id = await answered(h)
    (call,) = await calls(h.app)
    await h.reaction(answer_id, "👍", channel_id=thread_id)
    assert [(f.call_id, f.value, f.source) for f in await feedback(h.app)] == [
        (call.id, 1, "reaction")
    ]
    await h.reaction(answer_id, "👎🏽", channel_id=thread_id)  # skin tone: still a thumbs down
    assert [f.value for f in await feedback(h.app)] == [-1]
    await h.reaction(answer_id, "👎🏽", channel_id=thread_id, add=False)
    assert await feedback(h.app) == []
    await h.reaction(answer_id, "👍", channel_id=thread_id, user_id=BOT_ID)  # our own
    await h.reaction(answer_id, "🎉", channel_id=thread_id)  # not a vote
    await h.reaction(12345678901234567, "👍", channel_id=thread_id)  # not one of our answers
    assert await feedback(h.app) == []
    assert h.errors == []


async def test_solved_button_marks_the_thread_solved(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    _thread_id, answer_id = await answered(h)
    (call,) = await calls(h.app)
    await h.click(answer_id, f"sb:solved:{call.id}")
    (thread,) = await threads(h.app)
    assert thread.solved_at is not None and thread.solved_by == str(USER_ID)
    response = last_callback(h)
    assert response["type"] == 4 and response["data"]["content"] == SOLVED
    assert response["data"]["flags"] & 64  # ephemeral


async def test_escalate_button_answers_one_tier_up_once(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    assert "tiered" in h.app.routing.strategies and h.app.settings.routing_strategy == "tiered"
    thread_id, answer_id = await answered(h, "What does HTTP 404 mean?")
    (first,) = await calls(h.app)
    await h.click(answer_id, f"sb:escalate:{first.id}")
    assert h.errors == []
    assert last_callback(h)["type"] == 6  # deferred update: the answer follows in the thread
    rows = await calls(h.app)
    assert len(rows) == 2
    second = rows[1]
    assert second.escalation is True and first.escalation is False
    assert second.tier == TIERS[min(TIERS.index(first.tier) + 1, len(TIERS) - 1)]
    assert second.thread_id == first.thread_id
    answers = h.bot_messages(thread_id)
    assert len(answers) == 2 and second.model_asked in answers[1]["content"]
    await h.click(answer_id, f"sb:escalate:{first.id}")  # a second click: no second answer
    assert len(await calls(h.app)) == 2
    followup = h.rest.of("POST", "/webhooks/{webhook_id}/{webhook_token}")[-1].json
    assert followup["content"] == ALREADY_ESCALATED and followup["flags"] & 64


async def test_spend_command_shows_this_channel_and_server(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    await answered(h)
    (call,) = await calls(h.app)
    await h.slash("spend")
    assert h.errors == []
    response = last_callback(h)
    text = response["data"]["content"]
    assert response["data"]["flags"] & 64
    assert "This channel today" in text and "over 1 calls" in text
    assert f"{call.cost_nano_usd / 1e9:.6f}" in text


async def test_tier_command_for_admins_only(sqlite_db: Database, make_harness: MakeHarness) -> None:
    h = await make_harness(sqlite_db)
    await h.slash("tier", {"tier": "premium"})  # a regular member
    assert last_callback(h)["data"]["content"] == NOT_ADMIN
    assert await channel_settings(h.app) == []
    await h.slash("tier", {"tier": "premium"}, roles=(ADMIN_ROLE_ID,))  # admin by role
    (setting,) = await channel_settings(h.app)
    assert (setting.channel, setting.tier) == (str(HELP_ID), "premium")
    assert "premium" in last_callback(h)["data"]["content"]
    await h.slash("tier", {"tier": "auto"}, user_id=ADMIN_ID)  # admin by user id
    (setting,) = await channel_settings(h.app)
    assert setting.tier is None
    # The channel default now steers routing for a new question.
    await h.slash("tier", {"tier": "budget"}, user_id=ADMIN_ID)
    await answered(h, "Explain in depth the trade-offs of consensus algorithms")
    (row,) = await calls(h.app)
    assert row.tier == "budget"
    assert h.errors == []


async def test_ask_command_answers_in_a_new_thread(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    await h.slash("ask", {"question": "Can I export my data?"})
    assert h.errors == []
    echo = last_callback(h)
    assert echo["type"] == 4 and "Can I export my data?" in echo["data"]["content"]
    assert echo["data"]["allowed_mentions"] == {"parse": []}
    (thread_call,) = h.rest.of("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    thread_id = int(thread_call.url.rsplit("/", 2)[-2])
    (answer,) = h.bot_messages(thread_id)
    assert answer["content"].startswith("Here is how")
    (row,) = await calls(h.app)
    assert row.channel == str(HELP_ID)
