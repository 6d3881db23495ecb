"""Posts digests and alerts (`Notice`) to the operators' Discord channel."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

from adapters.discord.render import embed
from bot.notices import Notice

log = logging.getLogger(__name__)


def rest_client() -> discord.Client:
    """A client used for REST only (no gateway connection): enough to post notices."""
    return discord.Client(intents=discord.Intents.none())


class DiscordNotifier:
    """Implements `bot.notices.Notifier`. With `token`, `client` is logged in on first use."""

    def __init__(self, client: discord.Client, channel_id: int, token: str | None = None) -> None:
        self._client = client
        self.channel_id = channel_id
        self._token = token

    async def notify(self, notice: Notice) -> None:
        if self._token is not None and self._client.http.token is None:
            await self._client.login(self._token)
        channel: Any = self._client.get_channel(self.channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(self.channel_id)
        kwargs: dict[str, Any] = {
            "allowed_mentions": discord.AllowedMentions.none(),
            "embed": discord.Embed.from_dict(embed(notice)),
        }
        if notice.chart_png:
            kwargs["file"] = discord.File(io.BytesIO(notice.chart_png), filename=notice.chart_name)
        await channel.send(**kwargs)
        log.info("notice posted to discord channel %s", self.channel_id)
