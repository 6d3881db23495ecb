"""Digests and budget alerts posted to the operators' Slack channel."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.format import neutralize_mentions
from adapters.slack.render import blocks, fallback_text
from bot.notices import Notice

log = logging.getLogger(__name__)


class SlackNotifier:
    """Implements `bot.notices.Notifier`: the notice as blocks (text as fallback), then its
    chart."""

    def __init__(self, client: AsyncWebClient, channel: str) -> None:
        self._client = client
        self._channel = channel

    async def notify(self, notice: Notice) -> None:
        await self._client.chat_postMessage(
            channel=self._channel,
            text=neutralize_mentions(fallback_text(notice)),
            blocks=blocks(notice),
        )
        if notice.chart_png:
            await self._client.files_upload_v2(
                channel=self._channel,
                file=notice.chart_png,
                filename=notice.chart_name,
                title=notice.chart_name,
            )
        log.info("posted notice to Slack channel %s", self._channel)
