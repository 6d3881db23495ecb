"""`switchboard run` entry point for Discord: the bot, running until cancelled."""

from __future__ import annotations

import asyncio
import logging

from adapters.discord.client import SwitchboardBot

log = logging.getLogger(__name__)


async def serve(bot: SwitchboardBot) -> None:
    """Log in and connect (discord.py reconnects and handles rate limits) until cancelled."""
    async with bot:
        await bot.login(bot.config.token.get_secret_value())
        recovery = asyncio.create_task(bot.keep_recovering(), name="discord-recovery")
        try:
            await bot.connect()
        finally:
            recovery.cancel()
            await asyncio.gather(recovery, return_exceptions=True)
