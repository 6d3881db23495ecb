"""`switchboard run` entry point for Discord: the bot, running until cancelled."""

from __future__ import annotations

import logging

from adapters.composition import App
from adapters.discord.client import SwitchboardBot
from adapters.discord.notifier import DiscordNotifier
from bot.errors import ConfigError

log = logging.getLogger(__name__)


async def serve(app: App) -> None:
    """Log in, connect (discord.py reconnects and handles rate limits), register the notifier."""
    token = app.settings.discord_bot_token
    if token is None or not token.get_secret_value():
        raise ConfigError("DISCORD_BOT_TOKEN is not set.")
    bot = SwitchboardBot(app=app)
    notifier = None
    if app.settings.digest_discord_channel_id:
        notifier = DiscordNotifier(bot, app.settings.digest_discord_channel_id)
        app.notifiers.append(notifier)
    try:
        async with bot:
            await bot.start(token.get_secret_value())
    finally:
        if notifier is not None and notifier in app.notifiers:
            app.notifiers.remove(notifier)
