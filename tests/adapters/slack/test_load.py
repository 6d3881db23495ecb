"""A burst of mentions: at most `concurrency` answers run at once, a bounded backlog waits, and
past it events are pushed back to Slack (500: delivered again later, then answered once)."""

from __future__ import annotations

import json

from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackConfig
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
