from __future__ import annotations

import asyncio
import json
import logging
import socket
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.services import services
from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackConfig
from adapters.slack.format import neutralize_mentions, safe_prefix_length
from adapters.slack.notifier import SlackNotifier
from adapters.slack.render import blocks
from adapters.slack.reply import ReplyTarget, SlackReply, StreamSupport
from adapters.slack.service import EVENTS_PATH
from bot.conversation.messages import AnswerMeta
from bot.notices import Notice
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import envelope, mention, signed_headers, slack_settings
from tests.conftest import Database, MakeApp

META = AnswerMeta(
    call_id=7,
    model="openai/gpt-4o-mini",
    tier="budget",
    strategy="tiered",
    cost_nano_usd=123_000,
    cost_source="reported",
    latency_ms=840,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_neutralize_mentions_keeps_text_readable() -> None:
    text = "<!channel> <!here|@here> <@U1> <@W2|ann> <!subteam^S9|@ops> <!subteam^S8> @everyone"
    out = neutralize_mentions(text)
    assert "<" not in out and "@everyone" not in out
    assert out.replace("\u2060", "") == "@channel @here @U1 @ann @ops @S8 @everyone"
    assert neutralize_mentions("mail me at a@here.com") == "mail me at a@here.com"
    assert neutralize_mentions("<https://x.io|docs>") == "<https://x.io|docs>"
    # A mention cut in two by the stream is held back until it is whole.
    assert safe_prefix_length("see <!chan") == len("see ")
    assert safe_prefix_length("see <!channel> now") == len("see <!channel> ")


async def test_updates_are_throttled_to_about_one_a_second(fake_slack: FakeSlack) -> None:
    fake_slack.native_streaming = False
    clock = Clock()
    client = make_client_for(fake_slack)
    reply = SlackReply(
        client, ReplyTarget("C1", "1.1", "U1", "T1"), StreamSupport("update"), clock=clock
    )
    await reply.start()
    for step in range(20):  # 20 tokens over 1.9 s
        clock.now = step * 0.1
        await reply.append(f"word{step} ")
    posted = await reply.finish("".join(f"word{s} " for s in range(20)), META)
    updates = fake_slack.named("chat.update")
    # The first token shows at once, then one update per second, then the final text.
    assert [c.args["text"] for c in updates[:-1]] == [
        "word0 ",
        " ".join(f"word{s}" for s in range(11)) + " ",
    ]
    assert updates[-1].args["blocks"][0]["text"].endswith("word19 ")
    assert posted == [f"C1:{updates[-1].args['ts']}"]
    assert len(fake_slack.named("chat.postMessage")) == 1  # the placeholder, updated in place


def make_client_for(fake: FakeSlack) -> AsyncWebClient:
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


async def test_rate_limited_calls_wait_and_retry(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.startStream", status=429, retry_after=0)
    fake_slack.fail_next("chat.stopStream", status=429, retry_after=0)
    slack = await make_harness(sqlite_db)
    handlers = slack.adapter.client.retry_handlers
    assert any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in handlers)
    await slack.http(envelope(mention("Do you ship abroad?", "100.000100")))
    await slack.settle()
    [answer] = slack.answers()
    assert answer.block("context") is not None and answer.body.startswith("Here is how")
    assert len(fake_slack.named("chat.startStream")) == 2
    assert len(fake_slack.named("chat.stopStream")) == 2


async def test_notifier_posts_blocks_and_uploads_the_chart(fake_slack: FakeSlack) -> None:
    notifier = SlackNotifier(make_client_for(fake_slack), "COPS")
    notice = Notice(
        "Spend $1.23 <!channel>", fields=(("Spend", "$1.23"),), chart_png=b"\x89PNG-chart"
    )
    await notifier.notify(notice)
    [post] = fake_slack.named("chat.postMessage")
    assert post.args["channel"] == "COPS" and post.args["blocks"] == blocks(notice)
    assert "<!channel>" not in post.args["text"]
    assert fake_slack.uploads == [b"\x89PNG-chart"]
    [done] = fake_slack.named("files.completeUploadExternal")
    assert done.args["channel_id"] == "COPS"


async def test_http_mode_service_answers_signed_events(
    sqlite_db: Database,
    make_app: MakeApp,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = await make_app(
        sqlite_db, **slack_settings(fake_slack, slack_http_port=port, digest_slack_channel="COPS")
    )
    task = asyncio.create_task(services(app)["slack"]())
    body = json.dumps(envelope(mention("Is the API down?", "100.000100")))
    url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # wait for the server to listen
            try:
                async with session.post(url, data=body, headers=signed_headers(body)) as resp:
                    status = resp.status
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        async with session.post(url, data=body, headers=signed_headers(body, secret="x")) as bad:
            assert bad.status == 401
        async with session.post(url, data="{oops", headers=signed_headers("{oops")) as broken:
            assert broken.status == 400
        # Not UTF-8 (issue 21): unsigned is refused as such, signed is a 400, never a 500.
        latin = json.dumps(envelope(mention("caf\u00e9?", "100.000200"))).replace(
            "\\u00e9", "\u00e9").encode("latin-1")  # fmt: skip
        async with session.post(url, data=latin, headers=signed_headers(latin, secret="x")) as r:
            assert r.status == 401
        async with session.post(url, data=latin, headers=signed_headers(latin)) as r:
            assert r.status == 400
    assert status == 200
    assert "Traceback" not in caplog.text and "not UTF-8" in caplog.text
    assert all(r.exc_info is None for r in caplog.records if r.levelno >= logging.WARNING)
    assert any(isinstance(n, SlackNotifier) for n in app.digest.notifiers)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)  # shutdown waits for the answer
    answers = [m for m in fake_slack.messages() if m.body.startswith("Here is how")]
    assert len(answers) == 1 and answers[0].thread_ts == "100.000100"


async def test_adapter_close_waits_for_answers_in_flight(
    sqlite_db: Database, make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    app = await make_app(sqlite_db, **slack_settings(fake_slack))
    config = SlackConfig.from_settings(app.settings)
    assert config is not None
    adapter = SlackAdapter(app.engine, app.ops, config)
    body = json.dumps(envelope(mention("Quick one", "100.000100")))
    await adapter.dispatch_http(body, signed_headers(body))
    assert adapter.tasks.pending == 1
    await adapter.close()
    assert adapter.tasks.pending == 0
    assert any(m.body.startswith("Here is how") for m in fake_slack.messages())


def test_manifest_subscribes_to_what_the_adapter_handles() -> None:
    manifest = (Path(__file__).parents[3] / "adapters" / "slack" / "manifest.yaml").read_text()
    for needed in (
        "app_mention",
        "message.channels",
        "message.im",
        "reaction_added",
        "reaction_removed",
        "chat:write",
        "reactions:read",
        "commands",
        "assistant:write",
        "files:write",
        "/switchboard",
        "interactivity",
    ):
        assert needed in manifest, needed
