"""A real SwitchboardBot, offline: gateway payloads in, recorded REST out, an in-memory LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.discord.client import SwitchboardBot
from adapters.discord.config import DiscordConfig
from bot.conversation.messages import ReplyLimits
from tests.adapters.discord.harness import (
    ADMIN_ID,
    ADMIN_ROLE_ID,
    FORUM_ID,
    HELP_ID,
    Harness,
)
from tests.conftest import Database, MakeApp

MakeHarness = Callable[..., Any]


@pytest.fixture
async def make_harness(make_app: MakeApp) -> AsyncIterator[MakeHarness]:
    """`await make_harness(db, interval=0.02, **settings)`: a started bot in one guild."""
    harnesses: list[Harness] = []

    async def make(db: Database, *, interval: float = 0.02, **overrides: Any) -> Harness:
        settings: dict[str, Any] = {
            "discord_bot_token": "discord-test-token",
            "discord_help_channel_ids": (HELP_ID,),
            "discord_forum_channel_ids": (FORUM_ID,),
            "discord_admin_ids": (ADMIN_ROLE_ID, ADMIN_ID),
        }
        app = await make_app(db, **{**settings, **overrides})
        config = DiscordConfig.from_settings(app.settings)
        assert config is not None
        bot = SwitchboardBot(
            engine=app.engine, ops=app.ops, config=config, limits=ReplyLimits(2000, interval)
        )
        harness = await Harness(bot, app).start()
        harnesses.append(harness)
        return harness

    yield make
    for harness in harnesses:
        await harness.close()
