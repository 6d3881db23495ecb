"""`switchboard run` entry point for Discord: the bot, running until cancelled."""

from __future__ import annotations

import logging

from adapters.discord.client import SwitchboardBot

log = logging.getLogger(__name__)


async def serve(bot: SwitchboardBot) -> None:
    """Log in and connect (discord.py reconnects and handles rate limits) until cancelled."""
    async with bot:
        await bot.start(bot.config.token.get_secret_value())
