"""Discord, checked live over REST (no gateway session): the bot token (login), the privileged
message-content intent (the application's flags), and the channels the settings name."""

from __future__ import annotations

import aiohttp
import discord

from adapters.discord.config import DiscordConfig
from adapters.findings import Finding, failed, passed

INTENT_FIX = (
    "turn on Message Content Intent in the Developer Portal (your application → Bot → "
    "Privileged Gateway Intents)"
)


async def check_discord(
    config: DiscordConfig, *, digest_channel_id: int | None = None, channels: bool = False
) -> list[Finding]:
    # REST only (no gateway session); no voice either, so discord.py need not say it lacks it.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    client = discord.Client(intents=discord.Intents(guilds=True))
    try:
        return await _check(client, config, digest_channel_id, channels)
    finally:
        await client.close()


async def _check(
    client: discord.Client,
    config: DiscordConfig,
    digest_channel_id: int | None,
    channels: bool,
) -> list[Finding]:
    try:
        await client.login(config.token.get_secret_value())
    except discord.LoginFailure:
        return [
            failed(
                "Discord",
                "Discord refused DISCORD_BOT_TOKEN (401)",
                "copy the token from the Developer Portal (your application → Bot → Reset Token)",
                fatal=True,
            )
        ]
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        return [
            failed(
                "Discord",
                f"cannot reach Discord ({type(error).__name__}: {error})",
                "check the network (and any proxy)",
                fatal=True,
            )
        ]
    except discord.HTTPException as error:
        return [
            failed(
                "Discord",
                f"login failed ({error.status}: {error.text})",
                "check the Discord status page and DISCORD_BOT_TOKEN",
                fatal=True,
            )
        ]
    user = client.user
    found = [passed("Discord", f"logged in as {user} ({user.id if user else '?'})")]
    flags = client.application.flags if client.application else discord.ApplicationFlags()
    if flags.gateway_message_content or flags.gateway_message_content_limited:
        found.append(passed("Discord intent", "message content intent enabled"))
    else:
        found.append(
            failed(
                "Discord intent",
                "the message content intent is off, so every question would arrive empty",
                INTENT_FIX,
                fatal=True,
            )
        )
    wanted: list[tuple[str, int]] = []
    if channels:
        wanted += [("help channel", i) for i in config.help_channel_ids]
        wanted += [("forum channel", i) for i in config.forum_channel_ids]
    if digest_channel_id is not None:
        wanted.append(("digest channel", digest_channel_id))
    for label, channel_id in wanted:
        found.append(await _channel(client, label, channel_id))
    return found


async def _channel(client: discord.Client, label: str, channel_id: int) -> Finding:
    try:
        channel = await client.fetch_channel(channel_id)
    except discord.NotFound:
        return failed(
            label,
            f"Discord channel {channel_id} does not exist",
            "copy the id again (Developer Mode → right-click → Copy ID)",
        )
    except discord.Forbidden:
        return failed(
            label,
            f"Discord channel {channel_id}: the bot cannot see it",
            "invite the bot to the server and give it View Channel there",
        )
    except discord.HTTPException as error:
        return failed(label, f"Discord channel {channel_id}: {error.status} {error.text}")
    return passed(label, f"Discord #{getattr(channel, 'name', channel_id)}")
