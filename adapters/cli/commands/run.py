"""`switchboard run`: every configured adapter plus the background jobs, in one asyncio process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from adapters.composition import build, services
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = subparsers.add_parser("run", help="run the Slack/Discord bot and scheduled jobs")
    run.set_defaults(func=_run)


MISSING = """No platform is configured, so there is nothing to run. Set either:
  Slack:   SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)
  Discord: DISCORD_BOT_TOKEN
(in the environment or .env; see .env.example and the README). `switchboard chat` works without."""


def _configured(settings: Settings) -> bool:
    slack = settings.slack_bot_token and (settings.slack_app_token or settings.slack_signing_secret)
    return bool(slack or settings.discord_bot_token)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)
    if not _configured(settings):
        print(MISSING, file=sys.stderr)
        return 2
    asyncio.run(serve_all(settings))
    return 0


async def serve_all(settings: Settings) -> None:
    switchboard = await build(settings)
    try:
        async with asyncio.TaskGroup() as group:
            for name, serve in services(switchboard).items():
                log.info("starting %s", name)
                group.create_task(serve(), name=name)
    finally:
        await switchboard.close()
