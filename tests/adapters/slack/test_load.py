"""A burst of mentions: at most `concurrency` answers run at once, a bounded backlog waits, and
past it events are pushed back to Slack (500: delivered again later, then answered once)."""

from __future__ import annotations

import json

from pydantic import SecretStr

from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackConfig, web_client
from adapters.slack.service import shared_session
from adapters.slack.tasks import TaskTracker
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import envelope, mention, signed_headers, slack_settings
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted


class CountingProvider(FakeProvider):
    """Remembers the most streams it had open at once."""

    open_now = 0
    most_open = 0

    async def stream(self, request):  # type: ignore[no-untyped-def]
        CountingProvider.open_now += 1
        CountingProvider.most_open = max(CountingProvider.most_open, CountingProvider.open_now)
        try:
            async for item in super().stream(request):
                yield item
        finally:
            CountingProvider.open_now -= 1


async def test_a_burst_is_bounded_queued_and_pushed_back(
    sqlite_db: Database, make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    provider = CountingProvider(default=Scripted(delay_s=0.01))
    app = await make_app(sqlite_db, provider_=provider, **slack_settings(fake_slack))
    config = SlackConfig.from_settings(app.settings)
    assert config is not None
    adapter = SlackAdapter(app.engine, app.ops, config)
    adapter.tasks = TaskTracker(concurrency=2, backlog=3)
    bodies = [json.dumps(envelope(mention(f"Question {n}?", f"100.0001{n:02d}"))) for n in range(8)]
    statuses = [(await adapter.dispatch_http(b, signed_headers(b))).status for b in bodies]
    assert statuses == [200] * 5 + [500] * 3  # 2 running + 3 waiting, then pushed back
    assert adapter.tasks.pending == 5 and adapter.tasks.refused == 3
    await adapter.drain()
    assert CountingProvider.most_open == 2
    for body in bodies[5:]:  # Slack's redelivery, once there is room
        assert (await adapter.dispatch_http(body, signed_headers(body))).status == 200
    await adapter.close()
    answers = [m for m in fake_slack.messages() if m.body.startswith("Here is how")]
    assert len(answers) == 8 and len({m.thread_ts for m in answers}) == 8


async def test_web_api_calls_share_one_keep_alive_connection(fake_slack: FakeSlack) -> None:
    client = web_client(SecretStr("xoxb-test"), fake_slack.base_url)
    for _ in range(3):  # slack_sdk on its own: a new session and connection per call
        await client.chat_postMessage(channel="C1", text="hi")
    async with shared_session(client):
        for _ in range(5):
            await client.chat_postMessage(channel="C1", text="hi")
    peers = [call.peer for call in fake_slack.named("chat.postMessage")]
    assert len(set(peers[:3])) == 3 and len(set(peers[3:])) == 1
    assert client.session is None  # closed with the service
