"""Slack's Socket Mode (SLACK_APP_TOKEN): the websocket client and Bolt's handler, imported only
by a bot that uses it (HTTP mode never loads them)."""

from __future__ import annotations

import asyncio
import logging
import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from adapters.slack.app import SlackAdapter
from bot.errors import ConfigError

log = logging.getLogger(__name__)


class _Handler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, with each payload checked by the adapter before Bolt reads it
    (Bolt assumes Slack's shapes and raises on anything else)."""

    def __init__(self, adapter: SlackAdapter, app_token: str) -> None:
        super().__init__(adapter.bolt, app_token)
        self.adapter = adapter

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        response = await self.adapter.dispatch_socket(req.payload, build_headers(req))
        await send_async_response(client, req, response, started)


async def serve_socket_mode(adapter: SlackAdapter, app_token: str) -> None:
    handler = _Handler(adapter, app_token)
    log.info("Slack: connecting in Socket Mode")
    try:
        try:
            await handler.connect_async()
        except SlackApiError as error:
            code = error.response.get("error", "error")
            raise ConfigError(f"Slack refused SLACK_APP_TOKEN ({code})") from None
        log.info("Slack: connected in Socket Mode")
        await asyncio.Event().wait()  # until cancelled
    finally:
        await handler.close_async()
