"""Serve one aiohttp application on one address until cancelled (dashboard, metrics)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.errors import ConfigError

log = logging.getLogger(__name__)


async def serve_app(app: web.Application, host: str, port: int, what: str, setting: str) -> None:
    """`setting` names the settings prefix (DASHBOARD, METRICS) a start-up failure points to."""
    # No access log: request lines of a finance dashboard are nobody's business in the bot's log.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise ConfigError(
                f"cannot serve the {what} on {host}:{port} ({error.strerror or error}): "
                f"choose another {setting}_PORT or {setting}_HOST"
            ) from None
        shown = f"[{host}]" if ":" in host else host
        log.info("%s on http://%s:%s/", what, shown, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
