"""`switchboard run` entry point for Slack: Socket Mode with an app token, else HTTP mode."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackAdapter
from bot.errors import ConfigError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


async def serve(adapter: SlackAdapter) -> None:
    """Run the Slack adapter until cancelled: stop taking events (close the socket or the
    listener), then let answers in flight finish (up to SHUTDOWN_GRACE_S)."""
    config = adapter.config
    async with shared_session(adapter.client):
        # Questions a crash left unanswered: at start-up, then every RECOVERY_INTERVAL_S.
        recovery = asyncio.create_task(adapter.keep_recovering(), name="slack-recovery")
        try:
            if config.app_token:
                from adapters.slack.socket_mode import serve_socket_mode  # not in HTTP mode

                await serve_socket_mode(adapter, config.app_token.get_secret_value())
            else:
                await serve_http(adapter, config.http_port)
        finally:
            recovery.cancel()
            await asyncio.gather(recovery, return_exceptions=True)
            await adapter.close()


@asynccontextmanager
async def shared_session(client: AsyncWebClient) -> AsyncIterator[None]:
    """One aiohttp session, so Web API calls reuse keep-alive connections: without one,
    slack_sdk opens a session (and a TCP + TLS connection) for every call, several per answer."""
    if client.session is not None:
        yield
        return
    session = ClientSession(timeout=ClientTimeout(total=client.timeout))
    client.session = session
    try:
        yield
    finally:
        client.session = None
        await session.close()


async def serve_http(adapter: SlackAdapter, port: int, host: str = "0.0.0.0") -> None:
    """Events, interactivity and the slash command all at POST /slack/events (signed)."""

    async def events(request: web.Request) -> web.Response:
        body = await request.read()  # bytes: the signature is checked before any decoding
        response = await adapter.dispatch_http(body, dict(request.headers))
        return await to_aiohttp_response(response)

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise ConfigError(
            f"Slack HTTP mode cannot listen on port {port} ({error.strerror}): "
            "set SLACK_HTTP_PORT to a free port"
        ) from None
    log.info("Slack: HTTP mode, listening on %s:%d%s", host, port, EVENTS_PATH)
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()
