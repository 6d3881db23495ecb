from __future__ import annotations

import json
import logging
import time

import pytest

from adapters.slack.reply import ESCALATE
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import button, envelope, mention, message
from tests.conftest import Database
from tests.fakes import FakeProvider


def nothing_happened(fake: FakeSlack, provider: FakeProvider) -> None:
    assert provider.requests == []
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []


async def test_bad_or_stale_signature_gets_401_and_nothing_else(
    sqlite_db: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = await make_harness(sqlite_db)
    event = envelope(mention("answer me", "100.000100"))
    caplog.set_level(logging.INFO)
    wrong = await slack.http(event, secret="not-the-secret")
    stale = await slack.http(event, timestamp=int(time.time()) - 600)
    assert (wrong.status, stale.status) == (401, 401)
    await slack.settle()
    nothing_happened(fake_slack, provider)
    assert "Invalid request signature" in caplog.text or "signature" in caplog.text.lower()


async def test_malformed_unknown_and_incomplete_requests_are_logged_not_answered(
    sqlite_db: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    slack = await make_harness(sqlite_db)
    statuses = [
        (await slack.http("{not json")).status,
        (await slack.http(json.dumps([1, 2, 3]))).status,
        (await slack.http(envelope({"type": "team_rename", "name": "x"}))).status,
        (await slack.http(envelope({"type": "app_mention", "text": "<@UBOT> hi"}))).status,
        (
            await slack.http(
                envelope(
                    {"type": "app_mention", "user": 5, "channel": [], "ts": None, "text": "hi"}
                )
            )
        ).status,
        (await slack.socket(envelope({"type": "message"}))).status,
        (await slack.socket({"type": "event_callback"})).status,
        (await slack.http(button(ESCALATE, "not-a-number", "1.1", None), form=True)).status,
        (await slack.http(button(ESCALATE, "12345", "1.1", None), form=True)).status,
        (await slack.socket({"type": "block_actions", "actions": []})).status,
    ]
    await slack.settle()
    assert all(status < 500 for status in statuses), statuses
    assert provider.requests == []
    assert slack.answers() == [] or all(":warning:" in m.body for m in slack.answers())
    assert "ignored Slack event type 'team_rename'" in caplog.text
    assert "ignored malformed message event" in caplog.text
    assert "ignored malformed button payload" in caplog.text
    assert await slack.calls() == []


async def test_bots_edits_deletions_and_own_messages_are_ignored(
    sqlite_db: Database,
    make_harness: MakeHarness,
    fake_slack: FakeSlack,
    provider: FakeProvider,
) -> None:
    slack = await make_harness(sqlite_db)
    await slack.http(envelope(mention("first question", "200.000100")))
    await slack.settle()
    asked = len(provider.requests)
    thread = "200.000100"
    for event in (
        message("from a bot", "200.000200", thread, bot_id="B2"),
        message("my own answer", "200.000300", thread, user="UBOT"),
        message("edited", "200.000400", thread, subtype="message_changed"),
        message("", "200.000500", thread, subtype="message_deleted"),
        message("joined", "200.000600", thread, subtype="channel_join"),
    ):
        await slack.http(envelope(event))
    await slack.settle()
    assert len(provider.requests) == asked
    assert len(slack.answers()) == 1
