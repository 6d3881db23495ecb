"""Empty, attachment-only and malformed input, and refused sends: no crash, a clear outcome."""

from __future__ import annotations

import logging

import pytest

from adapters.discord.notifier import DiscordNotifier
from adapters.discord.reply import SEND_FAILED
from adapters.discord.views import UNKNOWN_ANSWER
from adapters.services import services
from bot.conversation.engine import EMPTY_MESSAGE
from bot.notices import Notice
from tests.adapters.discord.conftest import MakeHarness
from tests.adapters.discord.harness import GENERAL_ID, HELP_ID
from tests.adapters.discord.rows import calls
from tests.conftest import Database, MakeApp

THREAD = ("POST", "/channels/{channel_id}/messages/{message_id}/threads")
CALLBACK = ("POST", "/interactions/{webhook_id}/{webhook_token}/callback")


@pytest.mark.parametrize(("content", "attachments"), [("", 2), ("   \n\t  ", 0), ("\x00\x01", 0)])
async def test_message_without_text_gets_a_short_reply_in_place(
    sqlite_db: Database, make_harness: MakeHarness, content: str, attachments: int
) -> None:
    h = await make_harness(sqlite_db)
    question = await h.message(HELP_ID, content, attachments=attachments)
    assert h.errors == []
    (reply,) = h.bot_messages(HELP_ID)
    assert EMPTY_MESSAGE in reply["content"]
    (sent,) = h.rest.of("POST", "/channels/{channel_id}/messages")
    assert str(sent.json["message_reference"]["message_id"]) == question["id"]
    assert sent.json["allowed_mentions"] == {"parse": []}
    assert not h.rest.of(*THREAD)  # no empty thread left behind
    assert await calls(h.app) == []


async def test_failed_send_is_logged_user_told_and_answer_kept(
    sqlite_db: Database, make_harness: MakeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h = await make_harness(sqlite_db)
    # The final edit fails even after discord.py's own retries (it raises to us).
    h.rest.fail("PATCH", "/channels/{channel_id}/messages/{message_id}", status=500, times=5)
    with caplog.at_level(logging.ERROR, logger="adapters.discord.reply"):
        question = await h.message(HELP_ID, "What is my quota?")
    assert h.errors == []
    assert any("posting answer part" in r.getMessage() for r in caplog.records)
    contents = [m["content"] for m in h.bot_messages(int(question["id"]))]
    assert contents[-1] == SEND_FAILED
    (row,) = await calls(h.app)
    assert row.status == "ok" and row.answer_id is not None  # the answer is in the database


async def test_malformed_and_unknown_events_do_not_crash(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    # A message in a thread Discord no longer knows (deleted): fetch 404s, message ignored.
    await h.message(987_654_321_000_000_001, "anyone here?")
    # Buttons whose call id is unknown, or whose custom_id does not match our template.
    _question = await h.message(HELP_ID, "How do refunds work?")
    thread_id = int(_question["id"])
    await h.thread_created(thread_id)
    answer_id = int(h.bot_messages(thread_id)[-1]["id"])
    h.rest.messages[answer_id]["components"][0]["components"][1]["custom_id"] = "sb:solved:99999"
    await h.click(answer_id, "sb:solved:99999")
    assert h.rest.of(*CALLBACK)[-1].json["data"]["content"] == UNKNOWN_ANSWER
    h.rest.messages[answer_id]["components"][0]["components"][0]["custom_id"] = "sb:escalate:x"
    before = len(h.rest.calls)
    await h.click(answer_id, "sb:escalate:x")
    assert h.rest.calls[before:] == []  # not ours: nothing happens
    # A slash command option outside its choices gets an ephemeral error.
    await h.slash("tier", {"tier": "ultra"}, channel_id=GENERAL_ID)
    response = h.rest.of(*CALLBACK)[-1].json
    assert response["data"]["flags"] & 64 and response["data"]["content"]
    assert h.errors == []
    assert len(await calls(h.app)) == 1


async def test_notifier_posts_embed_with_chart(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    notifier = DiscordNotifier(h.bot, GENERAL_ID)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    await notifier.notify(Notice(title="Spend today", body="$1.23", chart_png=png))
    (sent,) = h.rest.of("POST", "/channels/{channel_id}/messages")
    assert f"/channels/{GENERAL_ID}/" in sent.url and sent.files == 1
    (embed,) = sent.json["embeds"]
    assert embed["title"] == "Spend today"
    assert embed["image"]["url"] == "attachment://spend.png"
    assert sent.json["allowed_mentions"] == {"parse": []}


async def test_discord_runs_only_with_a_token(sqlite_db: Database, make_app: MakeApp) -> None:
    without = await make_app(sqlite_db)
    assert "discord" not in services(without)
    with_token = await make_app(sqlite_db, discord_bot_token="discord-test-token")
    assert "discord" in services(with_token)
