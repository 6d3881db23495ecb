from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import Harness, slack_settings
from tests.conftest import Database, MakeApp


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


MakeHarness = Callable[..., Coroutine[Any, Any, Harness]]


@pytest.fixture
async def make_harness(fake_slack: FakeSlack, make_app: MakeApp) -> AsyncIterator[MakeHarness]:
    """A Slack adapter on a fresh App (same database = a restarted bot)."""
    made: list[Harness] = []

    async def make(db: Database, **overrides: Any) -> Harness:
        app = await make_app(db, **slack_settings(fake_slack, **overrides))
        harness = Harness(app, fake_slack)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.adapter.close()
