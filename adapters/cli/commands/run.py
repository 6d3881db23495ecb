"""`switchboard run`: every configured adapter plus the background jobs, in one asyncio process.

Start: the settings, then the database and the rest of the bot, then the same live credential
checks as `switchboard doctor` (a refused key or token stops here with one line and exit code
2, instead of retrying forever; the LLM checks are billed, so they go on the ledger), then the
services. Stop (SIGTERM from docker/systemd/Kubernetes, or Ctrl-C): stop
taking new events, let answers in flight finish (up to SHUTDOWN_GRACE_S), close the platform
connections and the database, exit 0. A second signal stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import threading

from adapters.checks import startup_checks
from adapters.cli.options import add_database, settings_for
from adapters.composition import build
from adapters.llm.endpoint import llm_endpoint
from adapters.services import Service, services
from bot.errors import ConfigError
from bot.settings import Settings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = subparsers.add_parser("run", help="run the Slack/Discord bot and scheduled jobs")
    add_database(run)
    run.set_defaults(func=_run)


MISSING = (
    "no platform is configured, so there is nothing to run: set SLACK_BOT_TOKEN and "
    "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode), or DISCORD_BOT_TOKEN "
    "(see .env.example; `switchboard chat` works without)"
)

NO_KEY = (
    "LLM_API_KEY is not set, so there is no model to answer with: set LLM_API_KEY (and "
    "LLM_BASE_URL if the provider is not Eden AI), or LLM_SIMULATOR=true to run on the built-in "
    "simulator (fake answers, each labelled [simulated])"
)


def _configured(settings: Settings) -> bool:
    slack = settings.slack_bot_token and (settings.slack_app_token or settings.slack_signing_secret)
    return bool(slack or settings.discord_bot_token)


def _run(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    logging.getLogger().setLevel(settings.log_level)
    if not _configured(settings):
        raise ConfigError(MISSING)
    if not settings.has_api_key and not settings.llm_simulator:
        raise ConfigError(NO_KEY)
    return asyncio.run(_serve_until_signalled(settings))


async def _serve_until_signalled(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Signal handlers can only be set from the main thread (tests run `main` in a worker).
    main_thread = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGTERM, signal.SIGINT) if main_thread else ()

    def on_signal(number: int) -> None:
        name = signal.Signals(number).name
        grace = settings.shutdown_grace_s
        log.warning("%s: stopping, answers in flight get up to %.0f s", name, grace)
        stop.set()
        for sig in signals:  # the next one gets the default behaviour: stop now
            loop.remove_signal_handler(sig)

    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await serve_all(settings, stop)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
    return 0


async def serve_all(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Check the credentials, build, and run every service until `stop` is set (or one fails)."""
    stop = stop or asyncio.Event()
    async with llm_endpoint(settings) as base_url:
        switchboard = await build(settings, llm_base_url=base_url)
        try:
            await startup_checks(settings, base_url, switchboard.calls)
            settle_start_up()
            await supervise(services(switchboard), stop)
        finally:
            await switchboard.close()
    log.info("stopped")


def settle_start_up() -> None:
    """Start-up is over: its ~170,000 objects (imported code, the analyzer, the price list) live
    as long as the process. Frozen, the collector no longer walks them: a full collection went
    from ~90 ms (a pause of the event loop, so of every answer in flight) to ~0 ms."""
    gc.collect()
    gc.freeze()


async def supervise(found: dict[str, Service], stop: asyncio.Event) -> None:
    """Run the services until `stop` is set or one of them ends; then cancel them all. Each
    service's own clean-up (on cancellation) closes its intake first, then finishes its
    answers in flight. A service that failed is re-raised once all have stopped."""
    tasks = {name: asyncio.create_task(serve(), name=name) for name, serve in found.items()}
    for name in tasks:
        log.info("started %s", name)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({stopping, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    for name, task in tasks.items():
        error = None if task.cancelled() else task.exception()
        if error is not None:
            if not isinstance(error, ConfigError):
                log.error("%s failed", name, exc_info=error)
            raise error
