"""`switchboard run`: every configured adapter plus the background jobs, in one asyncio process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from adapters.composition import App, build_app
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)

Service = Callable[[App], Coroutine[Any, Any, None]]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = subparsers.add_parser("run", help="run the Slack/Discord bot and scheduled jobs")
    run.set_defaults(func=_run)


def adapter_services(settings: Settings) -> dict[str, Service]:
    """The platform adapters that have credentials. Imported lazily: their SDKs are heavy."""
    services: dict[str, Service] = {}
    if settings.slack_bot_token and (settings.slack_app_token or settings.slack_signing_secret):
        from adapters.slack.service import serve as serve_slack

        services["slack"] = serve_slack
    if settings.discord_bot_token:
        from adapters.discord.service import serve as serve_discord

        services["discord"] = serve_discord
    return services


def background_services(settings: Settings) -> dict[str, Service]:
    """Jobs that run beside the adapters (digest scheduler, metrics endpoint)."""
    from adapters.composition import digest_scheduler

    async def serve_digest(app: App) -> None:
        await digest_scheduler(app).serve()

    services: dict[str, Service] = {"digest": serve_digest}
    if settings.metrics_port:
        from adapters.web.metrics import serve as serve_metrics

        async def metrics(app: App) -> None:
            if app.metrics is not None and app.settings.metrics_port is not None:
                await serve_metrics(app.metrics, app.db, app.settings.metrics_port)

        services["metrics"] = metrics
    return services


MISSING = """No platform is configured, so there is nothing to run. Set either:
  Slack:   SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)
  Discord: DISCORD_BOT_TOKEN
(in the environment or .env; see .env.example and the README). `switchboard chat` works without."""


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)
    adapters = adapter_services(settings)
    if not adapters:
        print(MISSING, file=sys.stderr)
        return 2
    asyncio.run(serve_all(settings, {**adapters, **background_services(settings)}))
    return 0


async def serve_all(settings: Settings, services: dict[str, Service]) -> None:
    app = await build_app(settings)
    try:
        async with asyncio.TaskGroup() as group:
            for name, serve in services.items():
                log.info("starting %s", name)
                group.create_task(serve(app), name=name)
    finally:
        await app.close()
