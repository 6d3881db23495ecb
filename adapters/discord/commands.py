"""Slash commands `/ask`, `/spend`, `/tier`; each error a user can cause gets an ephemeral reply."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, cast

import discord
from discord import app_commands

from adapters.discord.config import DiscordConfig
from adapters.discord.places import Place, dm_place, new_thread, thread_name, thread_place
from adapters.discord.reply import NO_MENTIONS, ChannelOpener, DiscordReply
from bot.conversation.engine import Engine
from bot.conversation.messages import Incoming, Outcome
from bot.errors import SwitchboardError
from bot.operations import Operations
from routing.tiers import TIERS, parse_tier

log = logging.getLogger(__name__)

NOT_ADMIN = (
    "Only admins can change the channel tier. Ask a server admin to add your user or role id "
    "to DISCORD_ADMIN_IDS."
)
CANNOT_ANSWER_HERE = "I can't answer in this kind of channel. Try a text channel or a DM."
COMMAND_FAILED = "Sorry, that command failed. The team has been told; please try again."


def is_admin(user: discord.abc.User, admin_ids: tuple[int, ...], permissions: int = 0) -> bool:
    """A configured user or role id, or a server administrator."""
    if discord.Permissions(permissions).administrator or user.id in admin_ids:
        return True
    return any(role.id in admin_ids for role in getattr(user, "roles", ()))


def conversation_channel(channel: Any) -> str:
    """The channel a thread belongs to (threads share their parent's settings and spend)."""
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id)
    return str(channel.id)


class Host(Protocol):
    """What the commands and the answer buttons ask of the client they run in
    (`adapters.discord.client.SwitchboardBot`)."""

    engine: Engine
    ops: Operations
    config: DiscordConfig

    def make_reply(self, open_channel: ChannelOpener) -> DiscordReply: ...

    def reply_in(self, channel: discord.abc.Messageable) -> DiscordReply: ...

    async def answer(self, incoming: Incoming, reply: DiscordReply) -> Outcome | None: ...

    def in_flight(self) -> AbstractAsyncContextManager[None]: ...


def host(interaction: discord.Interaction) -> Host:
    return cast(Host, interaction.client)


async def _ask_place(interaction: discord.Interaction, question: str) -> Place | None:
    """Acknowledge `/ask` by echoing the question, and say where its answer goes."""
    channel = interaction.channel
    user = interaction.user
    echo = f"**{user.display_name} asked:** {question}"[:2000]
    if isinstance(channel, discord.TextChannel) and interaction.guild_id is not None:
        response = await interaction.response.send_message(echo, allowed_mentions=NO_MENTIONS)
        message = response.resource
        if not isinstance(message, discord.InteractionMessage):
            message = await interaction.original_response()
        name = thread_name(question, f"Question from {user.display_name}")
        return Place(str(interaction.guild_id), str(channel.id), str(message.id),
                     new_thread(message, name),
                     origin=f"thread-on:{channel.id}:{message.id}")  # fmt: skip
    if isinstance(channel, discord.Thread):
        await interaction.response.send_message(echo, allowed_mentions=NO_MENTIONS)
        return thread_place(channel)
    if isinstance(channel, discord.DMChannel):
        await interaction.response.send_message(echo, allowed_mentions=NO_MENTIONS)
        return dm_place(channel, channel.id)
    await interaction.response.send_message(CANNOT_ANSWER_HERE, ephemeral=True)
    return None


def add_commands(tree: app_commands.CommandTree[Any]) -> None:
    @tree.command(name="ask", description="Ask a question; the answer comes in a new thread")
    @app_commands.describe(question="What you want to know")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        bot = host(interaction)
        place = await _ask_place(interaction, question)
        if place is None:
            return
        incoming = Incoming(
            platform="discord",
            workspace=place.workspace,
            channel=place.channel,
            thread=place.thread,
            user=str(interaction.user.id),
            text=question,
            event_id=f"ask:{interaction.id}",
            origin=place.origin,
            admin=is_admin(interaction.user, bot.config.admin_ids, interaction.permissions.value),
        )
        await bot.answer(incoming, bot.make_reply(place.open_channel))

    @tree.command(name="spend", description="What answers cost today and this month")
    @app_commands.guild_only()
    async def spend(interaction: discord.Interaction) -> None:
        bot = host(interaction)
        summary = await bot.ops.spend(
            "discord", str(interaction.guild_id), conversation_channel(interaction.channel)
        )
        await interaction.response.send_message(summary.text(), ephemeral=True)

    @tree.command(name="tier", description="Set this channel's default model tier (admins only)")
    @app_commands.guild_only()
    @app_commands.describe(tier="budget, balanced or premium; auto lets routing decide")
    @app_commands.choices(
        tier=[app_commands.Choice(name=name, value=name) for name in (*TIERS, "auto")]
    )
    async def tier(interaction: discord.Interaction, tier: app_commands.Choice[str]) -> None:
        bot = host(interaction)
        admin_ids = bot.config.admin_ids
        if not is_admin(interaction.user, admin_ids, interaction.permissions.value):
            await interaction.response.send_message(NOT_ADMIN, ephemeral=True)
            return
        chosen = parse_tier(tier.value)
        channel = conversation_channel(interaction.channel)
        await bot.ops.set_channel_tier(
            "discord", str(interaction.guild_id), channel, chosen, str(interaction.user.id)
        )
        await interaction.response.send_message(
            f"Default tier for <#{channel}> is now **{chosen or 'auto'}**.", ephemeral=True
        )

    @tree.error
    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        if isinstance(
            original,
            SwitchboardError | app_commands.CheckFailure | app_commands.TransformerError,
        ):
            message = str(original)
        else:
            log.error("slash command failed", exc_info=original)
            message = COMMAND_FAILED
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
