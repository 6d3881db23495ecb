"""`switchboard run` entry point for Discord: the bot, running until cancelled."""

from __future__ import annotations

import asyncio
import logging

import discord

from adapters.discord.check import INTENT_FIX
from adapters.discord.client import SwitchboardBot
from bot.errors import ConfigError

log = logging.getLogger(__name__)


async def serve(bot: SwitchboardBot) -> None:
    """Log in and connect (discord.py reconnects and handles rate limits) until cancelled;
    then stop taking messages and let answers in flight finish before the connection closes.
    A refused token or intent ends it with a `ConfigError` line, not a retry loop. Questions a
    crash left unanswered are answered (or apologised for) at start-up and periodically."""
    async with bot:
        recovery: asyncio.Task[None] | None = None
        try:
            await bot.login(bot.config.token.get_secret_value())
            recovery = asyncio.create_task(bot.keep_recovering(), name="discord-recovery")
            await bot.connect()
        except discord.LoginFailure:
            raise ConfigError("Discord refused DISCORD_BOT_TOKEN (401)") from None
        except discord.PrivilegedIntentsRequired:
            raise ConfigError(f"Discord refused the message content intent: {INTENT_FIX}") from None
        finally:
            if recovery is not None:
                recovery.cancel()
                await asyncio.gather(recovery, return_exceptions=True)
            await bot.finish_answers(bot.config.shutdown_grace_s)
