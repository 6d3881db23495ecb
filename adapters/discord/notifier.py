"""Posts digests and alerts (`Notice`) to the operators' Discord channel."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

from bot.conversation.ports import Notice

log = logging.getLogger(__name__)


class DiscordNotifier:
    def __init__(self, client: discord.Client, channel_id: int) -> None:
        self._client = client
        self.channel_id = channel_id

    async def notify(self, notice: Notice) -> None:
        channel: Any = self._client.get_channel(self.channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(self.channel_id)
        kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
        embed = discord.Embed.from_dict(notice.discord_embed) if notice.discord_embed else None
        if notice.chart_png:
            kwargs["file"] = discord.File(io.BytesIO(notice.chart_png), filename=notice.chart_name)
            if embed is not None and not embed.image:
                embed.set_image(url=f"attachment://{notice.chart_name}")
        if embed is not None:
            kwargs["embed"] = embed
        else:
            kwargs["content"] = notice.text[:2000]
        await channel.send(**kwargs)
        log.info("notice posted to discord channel %s", self.channel_id)
